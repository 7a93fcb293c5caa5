#include "train/model_io.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/row_convert.h"
#include "runtime/palette_matvec.h"
#include "tensor/ggml_type.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_gguf.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace tenfold::train {

TrainConfig trainConfigOf(const Model& model)
{
    const LlamaHParams& hp = model.hparams();
    for (const auto& l : model.layers())
        if (l.bq.present() || l.bk.present() || l.bv.present())
            throw UnsupportedError(model.displayName() +
                                   ": QKV biases (Qwen2) are not modelled by the training engine");
    TrainConfig c;
    c.vocab = hp.nVocab;
    c.dim = hp.nEmbd;
    c.nLayers = hp.nLayer;
    c.nHead = hp.nHead;
    c.nHeadKv = hp.nHeadKv;
    c.headDim = hp.headDim == hp.nEmbd / hp.nHead ? 0 : hp.headDim;
    c.ffnDim = hp.nFF;
    c.ropeDim = hp.ropeDim == hp.headDim ? 0 : hp.ropeDim;
    c.ropeNeox = hp.ropeNeox;
    c.ropeBase = hp.ropeFreqBase;
    c.ropeScale = hp.ropeFreqScale;
    c.normEps = hp.rmsEps;
    c.tiedEmbeddings = hp.tiedOutput;
    return c;
}

std::vector<int> allLayers(int nLayers)
{
    std::vector<int> v(std::max(0, nLayers));
    for (int i = 0; i < nLayers; ++i)
        v[i] = i;
    return v;
}

static void checkCount(int nLayers, int n)
{
    if (n < 1 || n > nLayers)
        throw InvalidArgument("a student of " + std::to_string(n) +
                              " layers cannot be taken from a model of " + std::to_string(nLayers) +
                              " layers (need 1.." + std::to_string(nLayers) + ")");
}

std::vector<int> spacedLayers(int nLayers, int n)
{
    checkCount(nLayers, n);
    std::vector<int> v(n);
    for (int i = 0; i < n; ++i)
        v[i] = int(int64_t(i) * nLayers / n);
    return v;
}

std::vector<int> firstLayers(int nLayers, int n)
{
    checkCount(nLayers, n);
    return allLayers(n);
}

std::vector<int> parseLayerList(const std::string& list, int nLayers)
{
    std::vector<int> v;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        size_t used = 0;
        int idx = -1;
        try {
            idx = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size())
            throw InvalidArgument("layer list '" + list + "': '" + item + "' is not a layer index");
        if (idx < 0 || idx >= nLayers)
            throw InvalidArgument("layer list '" + list + "': layer " + item +
                                  " does not exist (the model has layers 0.." +
                                  std::to_string(nLayers - 1) + ")");
        if (!v.empty() && idx <= v.back())
            throw InvalidArgument("layer list '" + list + "': indices must increase (" + item +
                                  " after " + std::to_string(v.back()) + ")");
        v.push_back(idx);
    }
    if (v.empty())
        throw InvalidArgument("layer list '" + list + "' names no layer");
    return v;
}

namespace {

void readTensor(const WeightTensor& t, int64_t rows, int64_t cols, float* dst)
{
    if (!t.present())
        throw FormatError(t.name, 0, "tensor missing");
    if (t.ne0 != cols || t.ne1 != rows)
        throw FormatError(t.name, t.sourceOffset,
                          "shape [" + std::to_string(t.ne0) + ", " + std::to_string(t.ne1) +
                              "] where the training layout expects [" + std::to_string(cols) +
                              ", " + std::to_string(rows) + "]");
    if (t.palette) { // decoded as the runtimes decode it
        for (int64_t r = 0; r < rows; ++r)
            paletteDecodeRow(*t.palette, r, dst + size_t(r) * cols, cols);
        return;
    }
    if (!t.data)
        throw UnsupportedError(t.name + ": a factorised (low-rank) weight cannot be trained; export it with "
                                        "tenfold-cli export-standard first");
    for (int64_t r = 0; r < rows; ++r)
        rowToFloat(t.type, t.row(r), dst + size_t(r) * cols, cols);
}

} // namespace

TrainableModel loadTrainable(std::shared_ptr<const Model> model, const std::vector<int>& layers)
{
    if (!model)
        throw InvalidArgument("loadTrainable: no model");
    TrainableModel out;
    out.config = trainConfigOf(*model);
    const int L = out.config.nLayers;
    out.sourceLayers = layers.empty() ? allLayers(L) : layers;
    for (size_t i = 0; i < out.sourceLayers.size(); ++i) {
        const int s = out.sourceLayers[i];
        if (s < 0 || s >= L)
            throw InvalidArgument("layer " + std::to_string(s) + " does not exist in " +
                                  model->displayName() + " (" + std::to_string(L) + " layers)");
        if (i > 0 && s <= out.sourceLayers[i - 1])
            throw InvalidArgument("layers to keep must be given in increasing order");
    }
    out.config.nLayers = int(out.sourceLayers.size());
    const ParamLayout layout(out.config);
    out.params.assign(layout.count(), 0.0f);
    float* P = out.params.data();
    const TrainConfig& c = out.config;
    readTensor(model->tokenEmbedding(), c.vocab, c.dim, P + layout.tokenEmbd);
    readTensor(model->outputNorm(), 1, c.dim, P + layout.outputNorm);
    if (!c.tiedEmbeddings)
        readTensor(model->output(), c.vocab, c.dim, P + layout.output);
    for (int l = 0; l < c.nLayers; ++l) {
        const LayerWeights& w = model->layers()[size_t(out.sourceLayers[l])];
        const ParamLayout::Layer& d = layout.layers[l];
        const int64_t qd = int64_t(c.nHead) * c.hd(), kvd = int64_t(c.nHeadKv) * c.hd();
        readTensor(w.attnNorm, 1, c.dim, P + d.attnNorm);
        readTensor(w.wq, qd, c.dim, P + d.wq);
        readTensor(w.wk, kvd, c.dim, P + d.wk);
        readTensor(w.wv, kvd, c.dim, P + d.wv);
        readTensor(w.wo, c.dim, qd, P + d.wo);
        readTensor(w.ffnNorm, 1, c.dim, P + d.ffnNorm);
        readTensor(w.ffnGate, c.ffnDim, c.dim, P + d.gate);
        readTensor(w.ffnUp, c.ffnDim, c.dim, P + d.up);
        readTensor(w.ffnDown, c.dim, c.ffnDim, P + d.down);
    }
    out.source = std::move(model);
    return out;
}

void saveTrainableGGUF(const std::filesystem::path& path, const Model& source,
                       const TrainConfig& c, const std::vector<float>& params, GGMLType weightType)
{
    if (weightType != GGMLType::F32 && weightType != GGMLType::F16)
        throw InvalidArgument("trained weights are written as F32 or F16, not " +
                              std::string(typeName(weightType)));
    const ParamLayout layout(c);
    if (params.size() != layout.count())
        throw InvalidArgument("saveTrainableGGUF: " + std::to_string(params.size()) +
                              " parameters for a layout of " + std::to_string(layout.count()));
    if (c.vocab != source.hparams().nVocab)
        throw InvalidArgument("saveTrainableGGUF: the model's vocabulary (" +
                              std::to_string(c.vocab) + ") is not the source tokenizer's (" +
                              std::to_string(source.hparams().nVocab) + ")");
    GGUFWriter w;
    const std::string a = source.hparams().architecture.empty() ? "llama"
                                                                : source.hparams().architecture;
    if (source.gguf()) {
        w.copyMetadata(*source.gguf());
    } else {
        w.set("general.architecture", GGUFValue::string(a));
        w.set("general.name", GGUFValue::string(source.displayName()));
        w.set(a + ".context_length", GGUFValue::u32(uint32_t(source.hparams().nCtxTrain)));
        w.set(a + ".vocab_size", GGUFValue::u32(uint32_t(c.vocab)));
        writeTokenizerMetadata(w, source.tokenizer());
    }
    // Every key that depends on the shape, so a student of another depth or width is described
    // by its own numbers and not the teacher's.
    w.set("general.file_type", GGUFValue::u32(weightType == GGMLType::F16 ? 1 : 0));
    w.set(a + ".embedding_length", GGUFValue::u32(uint32_t(c.dim)));
    w.set(a + ".block_count", GGUFValue::u32(uint32_t(c.nLayers)));
    w.set(a + ".feed_forward_length", GGUFValue::u32(uint32_t(c.ffnDim)));
    w.set(a + ".attention.head_count", GGUFValue::u32(uint32_t(c.nHead)));
    w.set(a + ".attention.head_count_kv", GGUFValue::u32(uint32_t(c.nHeadKv)));
    w.set(a + ".attention.layer_norm_rms_epsilon", GGUFValue::f32(float(c.normEps)));
    w.set(a + ".rope.dimension_count", GGUFValue::u32(uint32_t(c.rd())));
    w.set(a + ".rope.freq_base", GGUFValue::f32(float(c.ropeBase)));
    if (c.hd() != c.dim / c.nHead) {
        w.set(a + ".attention.key_length", GGUFValue::u32(uint32_t(c.hd())));
        w.set(a + ".attention.value_length", GGUFValue::u32(uint32_t(c.hd())));
    } else {
        w.remove(a + ".attention.key_length");
        w.remove(a + ".attention.value_length");
    }

    // 2-D weights in weightType; 1-D norm gains in F32 (llama.cpp's convention). The encoded
    // bytes must live until write().
    std::vector<std::vector<uint8_t>> blobs;
    blobs.reserve(layout.views().size());
    for (const ParamView& v : layout.views()) {
        const bool vec = v.rows == 1 && !v.decay;
        const GGMLType t = vec ? GGMLType::F32 : weightType;
        const size_t rowBytes = tenfold::rowBytes(t, v.cols);
        std::vector<uint8_t> bytes(rowBytes * size_t(v.rows));
        for (int64_t r = 0; r < v.rows; ++r)
            rowFromFloat(t, params.data() + v.offset + size_t(r) * v.cols,
                         bytes.data() + size_t(r) * rowBytes, v.cols);
        blobs.push_back(std::move(bytes));
        std::vector<int64_t> ne = vec ? std::vector<int64_t>{v.cols}
                                      : std::vector<int64_t>{v.cols, v.rows};
        w.addTensor(v.name, t, std::move(ne), blobs.back().data(), blobs.back().size());
    }
    w.write(path);
}

} // namespace tenfold::train
