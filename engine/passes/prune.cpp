#include "passes/prune.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "model/model_builder.h"
#include "passes/gguf_stream_writer.h"
#include "passes/gptq.h"
#include "passes/imatrix.h"
#include "passes/parallel_rows.h"
#include "passes/prune_mask.h"
#include "passes/prune_structured.h"
#include "passes/row_convert.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>

namespace tenfold {

const char* pruneMethodName(PruneMethod m)
{
    switch (m) {
    case PruneMethod::Magnitude: return "magnitude";
    case PruneMethod::Wanda: return "wanda";
    case PruneMethod::SparseGpt: return "sparsegpt";
    case PruneMethod::Heads: return "heads";
    case PruneMethod::Ffn: return "ffn";
    case PruneMethod::Layers: return "layers";
    }
    return "?";
}

PruneMethod parsePruneMethod(const std::string& name)
{
    for (PruneMethod m : {PruneMethod::Magnitude, PruneMethod::Wanda, PruneMethod::SparseGpt, PruneMethod::Heads,
                          PruneMethod::Ffn, PruneMethod::Layers})
        if (name == pruneMethodName(m))
            return m;
    throw InvalidArgument("pruning method '" + name + "' is not one of magnitude, wanda, sparsegpt, heads, ffn, layers");
}

bool pruneMethodNeedsCalibration(PruneMethod m) { return m != PruneMethod::Magnitude; }
bool pruneMethodIsStructured(PruneMethod m)
{
    return m == PruneMethod::Heads || m == PruneMethod::Ffn || m == PruneMethod::Layers;
}

int prunableLayer(const std::string& name)
{
    static const std::regex re(R"(blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight)");
    std::smatch m;
    return std::regex_match(name, m, re) ? std::stoi(m[1].str()) : -1;
}

std::string PruneReport::summary() const
{
    char buf[256];
    std::string s;
    auto line = [&](const std::string& l) { s += l + "\n"; };
    if (!pruneMethodIsStructured(method)) {
        int64_t el = 0, z = 0;
        for (const PrunedTensor& t : tensors) {
            el += t.elements;
            z += t.zeros;
        }
        std::snprintf(buf, sizeof buf, "%s: %zu matrices pruned, %lld of %lld weights are zero (%.2f%%)",
                      pruneMethodName(method), tensors.size(), (long long)z, (long long)el,
                      el ? 100.0 * double(z) / double(el) : 0.0);
        line(buf);
    } else {
        if (!removedLayers.empty()) {
            std::string l = "removed layers:";
            for (int i : removedLayers)
                l += " " + std::to_string(i);
            line(l);
            std::string inf = "block influence (1 - cos):";
            for (size_t i = 0; i < layerInfluence.size(); ++i) {
                std::snprintf(buf, sizeof buf, " %zu=%.4f", i, layerInfluence[i]);
                inf += buf;
            }
            line(inf);
        }
        for (size_t l = 0; l < removedHeads.size(); ++l) {
            std::string h = "layer " + std::to_string(l) + ": removed heads";
            for (int i : removedHeads[l])
                h += " " + std::to_string(i);
            line(h);
        }
        if (!removedChannels.empty()) {
            std::snprintf(buf, sizeof buf, "removed %zu FFN channels in each of %zu layers",
                          removedChannels.front().size(), removedChannels.size());
            line(buf);
        }
        std::snprintf(buf, sizeof buf, "now: %d layers, %d heads (%d KV), feed_forward_length %d", nLayerAfter,
                      nHeadAfter, nHeadKvAfter, nFFAfter);
        line(buf);
    }
    std::snprintf(buf, sizeof buf, "parameters: %lld -> %lld; file: %llu -> %llu bytes", (long long)paramsBefore,
                  (long long)paramsAfter, (unsigned long long)bytesBefore, (unsigned long long)bytesAfter);
    line(buf);
    return s;
}

namespace {

void checkCancel(const std::atomic<bool>* cancel)
{
    if (cancel && cancel->load())
        throw Cancelled();
}

// The statistics a calibrated method reads, for the layers they were collected for.
struct CalibrationStats {
    ImportanceMatrix imatrix; // Wanda
    HessianSet hessians;      // SparseGPT
};

CalibrationStats collectStats(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                              const ImatrixOptions& io, PruneMethod method)
{
    CalibrationStats s;
    if (method == PruneMethod::Wanda)
        s.imatrix = collectImportanceMatrix(model, tokens, io);
    else if (method == PruneMethod::SparseGpt)
        s.hessians = collectHessians(model, tokens, io);
    return s;
}

// One matrix pruned and written back in its own type.
std::vector<uint8_t> pruneMatrix(const GGUFTensorInfo& t, const CalibrationStats& stats, const PruneOptions& o,
                                 int nThreads, PrunedTensor& counted)
{
    const int layer = prunableLayer(t.name);
    SparsityPattern p;
    p.sparsity = o.layerSparsity.empty() ? o.sparsity : o.layerSparsity[size_t(layer)];
    p.nmKeep = o.nmKeep;
    p.nmGroup = o.nmGroup;
    const int64_t cols = t.ne[0], rows = t.ne[1];
    const size_t inRow = rowBytes(t.type, cols);
    RowMatrixF W(rows, cols);
    parallelRanges(rows, nThreads, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r)
            rowToFloat(t.type, t.data + size_t(r) * inRow, W.row(r).data(), cols);
    });
    switch (o.method) {
    case PruneMethod::Magnitude: magnitudePrune(W, p); break;
    case PruneMethod::Wanda: {
        std::vector<float> norm = stats.imatrix.columnWeights(t.name);
        if (int64_t(norm.size()) != cols)
            throw InvalidArgument("Wanda: no calibration activations reached " + t.name);
        for (float& v : norm)
            v = std::sqrt(v);
        wandaPrune(W, norm, p);
        break;
    }
    case PruneMethod::SparseGpt: {
        const Eigen::MatrixXd* H = stats.hessians.find(t.name);
        if (!H || H->rows() != cols)
            throw InvalidArgument("SparseGPT: no calibration Hessian for " + t.name);
        sparseGptPrune(W, *H, p, o.sparseGptBlock, o.sparseGptDamp, nThreads);
        break;
    }
    default: break;
    }
    std::vector<uint8_t> bytes(size_t(rows) * inRow);
    parallelRanges(rows, nThreads, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r)
            rowFromFloat(t.type, W.row(r).data(), bytes.data() + size_t(r) * inRow, cols);
    });
    // Count zeros as written (a re-quantized type may not keep them all).
    std::vector<float> row(static_cast<size_t>(cols));
    int64_t zeros = 0;
    for (int64_t r = 0; r < rows; ++r) {
        rowToFloat(t.type, bytes.data() + size_t(r) * inRow, row.data(), cols);
        zeros += std::count(row.begin(), row.end(), 0.0f);
    }
    counted = {t.name, rows * cols, zeros};
    return bytes;
}

PruneReport pruneUnstructured(const std::shared_ptr<GGUFFile>& srcFile, const std::shared_ptr<const Model>& model,
                              const std::filesystem::path& out, std::span<const int32_t> tokens, const PruneOptions& o)
{
    const GGUFFile& src = *srcFile;
    const int nThreads = resolveThreadCount(o.nThreads);
    const bool calibrated = o.method == PruneMethod::Wanda || o.method == PruneMethod::SparseGpt;
    if (calibrated && tokens.empty())
        throw InvalidArgument(std::string(pruneMethodName(o.method)) + " pruning needs a calibration text (-f)");
    const int nLayer = model->hparams().nLayer;
    const bool sequential = calibrated && o.sequential && nLayer > 1;
    ImatrixOptions io;
    io.nCtx = o.calibCtx;
    io.maxChunks = o.calibWindows;
    io.nThreads = nThreads;
    io.cancel = o.cancel;

    PruneReport report;
    report.method = o.method;
    report.bytesBefore = src.fileSize();
    std::vector<StreamTensorSpec> specs;
    std::vector<const GGUFTensorInfo*> prunable;
    for (const GGUFTensorInfo& t : src.tensors()) {
        specs.push_back({t.name, t.type, t.ne});
        report.paramsBefore += t.elementCount();
        if (prunableLayer(t.name) >= 0 && t.ne.size() == 2)
            prunable.push_back(&t);
    }
    report.paramsAfter = report.paramsBefore;
    std::map<std::string, std::vector<uint8_t>> pruned;
    std::map<std::string, PrunedTensor> counts;
    size_t done = 0;
    // Sequential runs report one "calibration" stage over all layers (in thousandths: each layer's
    // windows take its first 80%, its matrices the rest) so a progress bar only moves forward.
    constexpr int kSteps = 1000;
    auto layerProgress = [&](int l, double f) {
        if (o.progress)
            o.progress("calibration", int(kSteps * (double(l) + f) / double(nLayer)), kSteps);
    };
    auto pruneLayerMatrices = [&](int layer, const CalibrationStats& stats) {
        const int inLayer = layer < 0 ? int(prunable.size()) : int(prunable.size()) / nLayer;
        int doneHere = 0;
        for (const GGUFTensorInfo* t : prunable) {
            if (layer >= 0 && prunableLayer(t->name) != layer)
                continue;
            checkCancel(o.cancel);
            pruned[t->name] = pruneMatrix(*t, stats, o, nThreads, counts[t->name]);
            ++doneHere;
            if (layer >= 0)
                layerProgress(layer, 0.8 + 0.2 * std::min(1.0, double(doneHere) / std::max(1, inLayer)));
            else if (o.progress)
                o.progress("pruning", int(++done), int(prunable.size()));
        }
    };
    if (sequential) {
        // The papers' procedure: layer l's statistics come from the model whose layers before l
        // are already pruned, so each layer is fitted to the inputs it will really get. A working
        // copy of the model reads the pruned bytes of the layers done so far.
        const std::shared_ptr<Model> work = Model::loadGGUF(std::shared_ptr<const GGUFFile>(srcFile));
        for (int l = 0; l < nLayer; ++l) {
            io.onlyLayer = l;
            io.progress = [&layerProgress, l](int d, int t) { layerProgress(l, 0.8 * double(d) / std::max(1, t)); };
            const CalibrationStats stats = collectStats(work, tokens, io, o.method);
            pruneLayerMatrices(l, stats);
            LayerWeights& lw = ModelBuilder::layers(*work)[size_t(l)];
            for (WeightTensor* w : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.ffnGate, &lw.ffnUp, &lw.ffnDown})
                if (auto it = pruned.find(w->name); it != pruned.end())
                    w->data = it->second.data();
        }
    } else {
        if (o.progress)
            io.progress = [&o](int d, int t) { o.progress("calibration", d, t); };
        const CalibrationStats stats = calibrated ? collectStats(model, tokens, io, o.method) : CalibrationStats{};
        pruneLayerMatrices(-1, stats);
    }

    auto metadata = src.metadata();
    metadata.emplace_back("tenfold.prune.method", GGUFValue::string(pruneMethodName(o.method)));
    if (o.nmGroup > 0)
        metadata.emplace_back("tenfold.prune.nm", GGUFValue::string(std::to_string(o.nmKeep) + ":" +
                                                                     std::to_string(o.nmGroup)));
    else
        metadata.emplace_back("tenfold.prune.sparsity", GGUFValue::f32(float(o.sparsity)));
    if (calibrated)
        metadata.emplace_back("tenfold.prune.sequential", GGUFValue::boolean(sequential));
    GGUFStreamWriter writer(out, metadata, specs);
    for (const GGUFTensorInfo& t : src.tensors()) {
        checkCancel(o.cancel);
        auto it = pruned.find(t.name);
        if (it == pruned.end()) {
            writer.append(t.data, t.nbytes);
            continue;
        }
        writer.append(it->second.data(), it->second.size());
        report.tensors.push_back(counts[t.name]);
        std::vector<uint8_t>().swap(it->second);
    }
    writer.finish();
    report.bytesAfter = writer.bytesWritten();
    return report;
}

} // namespace

PruneReport pruneModel(const std::filesystem::path& in, const std::filesystem::path& out,
                       std::span<const int32_t> calibrationTokens, const PruneOptions& options)
{
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in, out, ec))
        throw InvalidArgument("input and output are the same file: " + in.string());
    if (!(options.sparsity >= 0.0 && options.sparsity < 1.0))
        throw InvalidArgument("sparsity must be in [0, 1), got " + std::to_string(options.sparsity));
    const std::shared_ptr<GGUFFile> src = GGUFFile::open(in);
    const std::shared_ptr<const Model> probe = Model::loadGGUF(std::shared_ptr<const GGUFFile>(src));
    const LlamaHParams& hp = probe->hparams();
    if (pruneMethodIsStructured(options.method)) {
        if (options.nmGroup > 0)
            throw InvalidArgument("N:M applies to magnitude, wanda and sparsegpt, not to " +
                                  std::string(pruneMethodName(options.method)));
        if (calibrationTokens.empty())
            throw InvalidArgument(std::string(pruneMethodName(options.method)) +
                                  " pruning ranks by calibration activations: it needs a calibration text (-f)");
        return pruneStructured(src, probe, out, calibrationTokens, options);
    }
    if (!options.layerSparsity.empty()) {
        if (int(options.layerSparsity.size()) != hp.nLayer)
            throw InvalidArgument("per-layer sparsity has " + std::to_string(options.layerSparsity.size()) +
                                  " values; the model has " + std::to_string(hp.nLayer) + " layers");
        for (size_t l = 0; l < options.layerSparsity.size(); ++l)
            if (!(options.layerSparsity[l] >= 0.0 && options.layerSparsity[l] < 1.0))
                throw InvalidArgument("sparsity of layer " + std::to_string(l) + " must be in [0, 1), got " +
                                      std::to_string(options.layerSparsity[l]));
    }
    if (options.nmGroup > 0) {
        SparsityPattern p;
        p.nmKeep = options.nmKeep;
        p.nmGroup = options.nmGroup;
        for (const GGUFTensorInfo& t : src->tensors())
            if (prunableLayer(t.name) >= 0 && t.ne.size() == 2)
                checkPattern(p, t.ne[0], t.name);
    }
    return pruneUnstructured(src, probe, out, calibrationTokens, options);
}

} // namespace tenfold
