// Model::loadLlama2c: Karpathy's llama2.c checkpoint format. The file is a 7 x int32 Config header
// followed by F32 arrays in a fixed order; its Q/K rows already use adjacent-pair RoPE, the same
// layout GGUF files hold for Llama, so no permutation is needed (checked against stories260K.gguf).
#include "model/model.h"

#include "core/error.h"
#include "model/model_builder.h"
#include "tokenizer/tokenizer.h"

#include <cstring>
#include <initializer_list>
#include <fstream>

namespace tenfold {
namespace {

struct Llama2cConfig {
    int32_t dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen;
};

std::vector<uint8_t> readWholeFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError("cannot open " + path.string());
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size < 0)
        throw IoError("cannot read " + path.string());
    in.seekg(0);
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
        throw IoError("cannot read " + path.string());
    return bytes;
}

} // namespace

std::shared_ptr<Model> Model::loadLlama2c(const std::filesystem::path& checkpoint,
                                          const std::filesystem::path& tokenizerPath)
{
    const std::string label = checkpoint.string();
    std::vector<uint8_t> bytes = readWholeFile(checkpoint);
    if (bytes.size() < sizeof(Llama2cConfig))
        throw FormatError(label, 0, "file is shorter than the 28-byte llama2.c header");
    Llama2cConfig cfg;
    std::memcpy(&cfg, bytes.data(), sizeof cfg);
    const bool sharedClassifier = cfg.vocabSize > 0;
    const int64_t vocab = cfg.vocabSize < 0 ? -int64_t(cfg.vocabSize) : cfg.vocabSize;
    auto check = [&](int64_t v, const char* what, int64_t offset) {
        if (v <= 0 || v > (int64_t(1) << 24))
            throw FormatError(label, uint64_t(offset), std::string("header field ") + what + " = " +
                                                           std::to_string(v) + " is out of range");
    };
    check(cfg.dim, "dim", 0);
    check(cfg.hiddenDim, "hidden_dim", 4);
    check(cfg.nLayers, "n_layers", 8);
    check(cfg.nHeads, "n_heads", 12);
    check(cfg.nKvHeads, "n_kv_heads", 16);
    check(vocab, "vocab_size", 20);
    check(cfg.seqLen, "seq_len", 24);
    if (cfg.dim % cfg.nHeads != 0 || cfg.nHeads % cfg.nKvHeads != 0)
        throw FormatError(label, 0, "dim " + std::to_string(cfg.dim) + ", n_heads " +
                                        std::to_string(cfg.nHeads) + " and n_kv_heads " +
                                        std::to_string(cfg.nKvHeads) + " are inconsistent");
    const int64_t dim = cfg.dim, hidden = cfg.hiddenDim, L = cfg.nLayers;
    const int64_t headDim = dim / cfg.nHeads, kvDim = headDim * cfg.nKvHeads;

    // Float counts in file order. Every field may be up to 2^24, so the products can exceed
    // int64: a wrapped sum could match a tiny file and leave weights pointing outside it.
    const std::string sizeProblem = "header (dim " + std::to_string(dim) + ", " +
                                    std::to_string(L) + " layers, hidden_dim " +
                                    std::to_string(hidden) + ", vocab " + std::to_string(vocab) +
                                    ") implies a size that overflows 64 bits";
    auto mul = [&](std::initializer_list<int64_t> factors) {
        uint64_t product = 1;
        for (int64_t f : factors)
            if (__builtin_mul_overflow(product, uint64_t(f), &product))
                throw FormatError(label, 0, sizeProblem);
        return product;
    };
    const uint64_t terms[] = {
        mul({vocab, dim}),         mul({L, dim}) /*rms_att*/,      mul({L, dim, dim}) /*wq*/,
        mul({2, L, dim, kvDim}) /*wk, wv*/,                       mul({L, dim, dim}) /*wo*/,
        mul({L, dim}) /*rms_ffn*/, mul({3, L, dim, hidden}) /*w1 w2 w3*/,
        uint64_t(dim) /*rms_final*/, mul({int64_t(cfg.seqLen), headDim}) /*freq_cis*/,
        sharedClassifier ? 0 : mul({vocab, dim})};
    uint64_t expectedBytes = 0;
    for (uint64_t t : terms)
        if (__builtin_add_overflow(expectedBytes, t, &expectedBytes))
            throw FormatError(label, 0, sizeProblem);
    if (__builtin_mul_overflow(expectedBytes, uint64_t(4), &expectedBytes) ||
        __builtin_add_overflow(expectedBytes, uint64_t(sizeof(Llama2cConfig)), &expectedBytes))
        throw FormatError(label, 0, sizeProblem);
    if (bytes.size() != expectedBytes)
        throw FormatError(label, bytes.size(),
                          "file is " + std::to_string(bytes.size()) + " bytes but its header (dim " +
                              std::to_string(dim) + ", " + std::to_string(L) +
                              " layers, vocab " + std::to_string(vocab) + ") implies " +
                              std::to_string(expectedBytes));

    auto model = ModelBuilder::create();
    LlamaHParams& hp = ModelBuilder::hparams(*model);
    hp.architecture = "llama";
    hp.nVocab = int32_t(vocab);
    hp.nCtxTrain = cfg.seqLen;
    hp.nEmbd = cfg.dim;
    hp.nLayer = cfg.nLayers;
    hp.nHead = cfg.nHeads;
    hp.nHeadKv = cfg.nKvHeads;
    hp.nFF = cfg.hiddenDim;
    hp.headDim = int32_t(headDim);
    hp.ropeDim = int32_t(headDim);
    hp.rmsEps = 1e-5f;
    hp.ropeFreqBase = 10000.0f;
    hp.tiedOutput = sharedClassifier;

    // The checkpoint's bytes become the model's one owned buffer; tensors point into it.
    auto& owned = ModelBuilder::ownedBuffers(*model);
    owned.push_back(std::move(bytes));
    const uint8_t* base = owned.back().data();
    uint64_t cursor = sizeof(Llama2cConfig);
    auto take = [&](const std::string& name, int64_t ne0, int64_t ne1) {
        WeightTensor w;
        w.name = name;
        w.type = GGMLType::F32;
        w.ne0 = ne0;
        w.ne1 = ne1;
        w.rowBytes = size_t(ne0) * 4;
        w.data = base + cursor;
        cursor += uint64_t(ne0 * ne1) * 4;
        return w;
    };
    // Stacked per-layer arrays: layer l of array `a` starts l * perLayer floats in.
    auto stacked = [&](const std::string& suffix, int64_t ne0, int64_t ne1,
                       std::vector<LayerWeights>& layers, WeightTensor LayerWeights::*member) {
        for (int64_t l = 0; l < L; ++l)
            layers[size_t(l)].*member = take("blk." + std::to_string(l) + "." + suffix, ne0, ne1);
    };

    auto& layers = ModelBuilder::layers(*model);
    layers.resize(size_t(L));
    ModelBuilder::tokenEmbedding(*model) = take("token_embd.weight", dim, vocab);
    stacked("attn_norm.weight", dim, 1, layers, &LayerWeights::attnNorm);
    stacked("attn_q.weight", dim, dim, layers, &LayerWeights::wq);
    stacked("attn_k.weight", dim, kvDim, layers, &LayerWeights::wk);
    stacked("attn_v.weight", dim, kvDim, layers, &LayerWeights::wv);
    stacked("attn_output.weight", dim, dim, layers, &LayerWeights::wo);
    stacked("ffn_norm.weight", dim, 1, layers, &LayerWeights::ffnNorm);
    stacked("ffn_gate.weight", dim, hidden, layers, &LayerWeights::ffnGate);  // w1
    stacked("ffn_down.weight", hidden, dim, layers, &LayerWeights::ffnDown);  // w2
    stacked("ffn_up.weight", dim, hidden, layers, &LayerWeights::ffnUp);      // w3
    ModelBuilder::outputNorm(*model) = take("output_norm.weight", dim, 1);
    cursor += uint64_t(cfg.seqLen) * uint64_t(headDim) * 4; // freq_cis_real, freq_cis_imag: unused
    if (sharedClassifier) {
        WeightTensor out = ModelBuilder::tokenEmbedding(*model);
        ModelBuilder::output(*model) = out;
    } else {
        ModelBuilder::output(*model) = take("output.weight", dim, vocab);
    }
    ModelBuilder::validate(*model, label);

    ModelBuilder::tokenizer(*model) = Tokenizer::fromLlama2cFile(tokenizerPath, hp.nVocab);
    return model;
}

} // namespace tenfold
