#include "passes/prune_structured.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/calibration_windows.h"
#include "passes/gguf_stream_writer.h"
#include "passes/parallel_rows.h"
#include "passes/quantize_model.h"
#include "passes/row_convert.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

namespace tenfold {
namespace {

void checkCancel(const std::atomic<bool>* cancel)
{
    if (cancel && cancel->load())
        throw Cancelled();
}

// The layer N of "blk.N.<suffix>" and the suffix; -1 when the name has no layer.
int layerOf(const std::string& name, std::string* suffix = nullptr)
{
    if (name.rfind("blk.", 0) != 0)
        return -1;
    const size_t dot = name.find('.', 4);
    if (dot == std::string::npos)
        return -1;
    try {
        const int l = std::stoi(name.substr(4, dot - 4));
        if (suffix)
            *suffix = name.substr(dot + 1);
        return l;
    } catch (...) {
        return -1;
    }
}

Eigen::MatrixXf toFloat(const WeightTensor& w)
{
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(w.ne1, w.ne0);
    for (int64_t r = 0; r < w.ne1; ++r)
        rowToFloat(w.type, w.row(r), m.row(r).data(), w.ne0);
    return m;
}

// Indices 0..n-1 without the `remove` lowest scores (ties: lower index removed), ascending.
std::vector<int> keepHighest(const std::vector<double>& score, int remove, std::vector<int>* removed)
{
    std::vector<int> idx(score.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return score[size_t(a)] < score[size_t(b)]; });
    std::vector<int> gone(idx.begin(), idx.begin() + remove), keep(idx.begin() + remove, idx.end());
    std::sort(gone.begin(), gone.end());
    std::sort(keep.begin(), keep.end());
    if (removed)
        *removed = gone;
    return keep;
}

} // namespace

StructuredScores structuredScores(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                                  PruneMethod method, const PruneOptions& o)
{
    const LlamaHParams& hp = model->hparams();
    CalibrationWindows windows(model, tokens, o.calibCtx, o.calibWindows, resolveThreadCount(o.nThreads),
                               std::string(pruneMethodName(method)) + " pruning");
    StructuredScores s;
    const int L = hp.nLayer, hd = hp.headDim;
    const int G = hp.nHead / std::max(1, hp.nHeadKv), gw = G * hd; // a KV group's width in W_o's input
    std::vector<std::vector<Eigen::MatrixXd>> gram; // heads: per layer, per KV group [gw x gw]
    std::vector<std::vector<double>> sumSq;         // ffn: per layer, per channel
    if (method == PruneMethod::Heads) {
        gram.assign(size_t(L), std::vector<Eigen::MatrixXd>(size_t(hp.nHeadKv), Eigen::MatrixXd::Zero(gw, gw)));
        windows.context().setMatmulObserver([&](const WeightTensor& w, const float* x, int rows, int64_t ldx) {
            std::string suffix;
            const int l = layerOf(w.name, &suffix);
            if (l < 0 || suffix != "attn_output.weight")
                return;
            using Rows = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                                    Eigen::OuterStride<>>;
            const Rows X(x, rows, w.ne0, Eigen::OuterStride<>(ldx));
            // Query heads g*G .. g*G+G-1 (the group of KV head g) are adjacent in W_o's input.
            for (int g = 0; g < hp.nHeadKv; ++g) {
                const Eigen::MatrixXf Xg = X.middleCols(g * gw, gw);
                gram[size_t(l)][size_t(g)] += (Xg.transpose() * Xg).cast<double>();
            }
        });
    } else if (method == PruneMethod::Ffn) {
        sumSq.assign(size_t(L), std::vector<double>(size_t(hp.nFF), 0.0));
        windows.context().setMatmulObserver([&](const WeightTensor& w, const float* x, int rows, int64_t ldx) {
            std::string suffix;
            const int l = layerOf(w.name, &suffix);
            if (l < 0 || suffix != "ffn_down.weight")
                return;
            std::vector<double>& acc = sumSq[size_t(l)];
            for (int r = 0; r < rows; ++r)
                for (int64_t i = 0; i < w.ne0; ++i) {
                    const double v = x[size_t(r) * size_t(ldx) + size_t(i)];
                    acc[size_t(i)] += v * v;
                }
        });
    } else {
        s.layerInfluence.assign(size_t(L), 0.0);
    }

    std::vector<float> logits, hidden, embedded;
    std::vector<int> after(static_cast<size_t>(L));
    std::iota(after.begin(), after.end(), 1);
    int64_t counted = 0;
    const WeightTensor& embd = model->tokenEmbedding();
    for (int w = 0; w < windows.count(); ++w) {
        checkCancel(o.cancel);
        if (method == PruneMethod::Layers) {
            const std::vector<int32_t>& tok = windows.window(w);
            const size_t T = tok.size(), E = size_t(hp.nEmbd);
            windows.context().truncate(0);
            windows.context().decodeCapture(tok, after, hidden);
            embedded.resize(T * E);
            for (size_t t = 0; t < T; ++t)
                rowToFloat(embd.type, embd.row(tok[t]), embedded.data() + t * E, hp.nEmbd);
            for (int l = 0; l < L; ++l) {
                const float* in = l == 0 ? embedded.data() : hidden.data() + size_t(l - 1) * T * E;
                const float* outp = hidden.data() + size_t(l) * T * E;
                double sum = 0;
                for (size_t t = 0; t < T; ++t) {
                    double dot = 0, a = 0, b = 0;
                    for (size_t e = 0; e < E; ++e) {
                        dot += double(in[t * E + e]) * outp[t * E + e];
                        a += double(in[t * E + e]) * in[t * E + e];
                        b += double(outp[t * E + e]) * outp[t * E + e];
                    }
                    sum += 1.0 - (a > 0 && b > 0 ? dot / std::sqrt(a * b) : 1.0);
                }
                s.layerInfluence[size_t(l)] += sum;
            }
            counted += int64_t(T);
        } else {
            windows.run(w, o.calibCtx - 1, logits, o.cancel);
        }
        if (o.progress)
            o.progress("calibration", w + 1, windows.count());
    }
    windows.context().setMatmulObserver({});
    if (method == PruneMethod::Layers)
        for (double& v : s.layerInfluence)
            v /= double(std::max<int64_t>(1, counted));
    if (method == PruneMethod::Heads) {
        s.headGroup.assign(size_t(L), std::vector<double>(size_t(hp.nHeadKv), 0.0));
        for (int l = 0; l < L; ++l) {
            const Eigen::MatrixXd Wo = toFloat(model->layers()[size_t(l)].wo).cast<double>(); // [nEmbd x nHead*hd]
            for (int g = 0; g < hp.nHeadKv; ++g) {
                const Eigen::MatrixXd Wog = Wo.middleCols(g * gw, gw);
                // sum_t ||Wo_g a_t,g||^2 = trace(Wo_g Gram_g Wo_g^T): the group's whole output
                s.headGroup[size_t(l)][size_t(g)] = (Wog * gram[size_t(l)][size_t(g)]).cwiseProduct(Wog).sum();
            }
        }
    }
    if (method == PruneMethod::Ffn) {
        s.ffnChannel.assign(size_t(L), std::vector<double>(size_t(hp.nFF), 0.0));
        for (int l = 0; l < L; ++l) {
            const Eigen::MatrixXf Wd = toFloat(model->layers()[size_t(l)].ffnDown); // [nEmbd x nFF]
            for (int i = 0; i < hp.nFF; ++i)
                s.ffnChannel[size_t(l)][size_t(i)] =
                    double(Wd.col(i).norm()) * std::sqrt(sumSq[size_t(l)][size_t(i)]);
        }
    }
    return s;
}

PruneReport pruneStructured(const std::shared_ptr<GGUFFile>& src, const std::shared_ptr<const Model>& model,
                            const std::filesystem::path& out, std::span<const int32_t> tokens, const PruneOptions& o)
{
    const LlamaHParams& hp = model->hparams();
    const int L = hp.nLayer, hd = hp.headDim, G = hp.nHead / std::max(1, hp.nHeadKv);
    PruneReport report;
    report.method = o.method;
    report.bytesBefore = src->fileSize();
    report.nLayerAfter = L;
    report.nHeadAfter = hp.nHead;
    report.nHeadKvAfter = hp.nHeadKv;
    report.nFFAfter = hp.nFF;

    // Decide what goes before the (slow) calibration, so bad input fails at once.
    int removeGroups = 0, removeChannels = 0, keepLayers = L;
    if (o.method == PruneMethod::Heads) {
        removeGroups = int(double(hp.nHeadKv) * o.sparsity);
        if (removeGroups < 1)
            throw InvalidArgument("sparsity " + std::to_string(o.sparsity) + " removes no KV group (the model has " +
                                  std::to_string(hp.nHeadKv) + " per layer; heads go by whole groups of " +
                                  std::to_string(G) + "): use at least " + std::to_string(1.0 / hp.nHeadKv));
        if (removeGroups >= hp.nHeadKv)
            throw InvalidArgument("sparsity " + std::to_string(o.sparsity) + " would remove every attention head");
    } else if (o.method == PruneMethod::Ffn) {
        removeChannels = int(double(hp.nFF) * o.sparsity);
        if (removeChannels < 1)
            throw InvalidArgument("sparsity " + std::to_string(o.sparsity) + " removes no FFN channel of " +
                                  std::to_string(hp.nFF));
    } else {
        keepLayers = o.layersKeep > 0 ? o.layersKeep : L - int(double(L) * o.sparsity);
        if (keepLayers < 1 || keepLayers >= L)
            throw InvalidArgument("layer pruning must keep between 1 and " + std::to_string(L - 1) + " of " +
                                  std::to_string(L) + " layers, asked to keep " + std::to_string(keepLayers));
    }

    const StructuredScores scores = structuredScores(model, tokens, o.method, o);
    std::vector<std::vector<int>> keepHeads(static_cast<size_t>(L)), keepKv(static_cast<size_t>(L)), keepCh(static_cast<size_t>(L));
    std::vector<int> newIndex(static_cast<size_t>(L), -1);
    for (int l = 0; l < L; ++l)
        newIndex[size_t(l)] = l;
    if (o.method == PruneMethod::Heads) {
        report.removedHeads.resize(size_t(L));
        for (int l = 0; l < L; ++l) {
            std::vector<int> goneGroups;
            keepKv[size_t(l)] = keepHighest(scores.headGroup[size_t(l)], removeGroups, &goneGroups);
            for (int g : keepKv[size_t(l)])
                for (int j = 0; j < G; ++j)
                    keepHeads[size_t(l)].push_back(g * G + j);
            for (int g : goneGroups)
                for (int j = 0; j < G; ++j)
                    report.removedHeads[size_t(l)].push_back(g * G + j);
        }
        report.nHeadKvAfter = hp.nHeadKv - removeGroups;
        report.nHeadAfter = report.nHeadKvAfter * G;
    } else if (o.method == PruneMethod::Ffn) {
        report.removedChannels.resize(size_t(L));
        for (int l = 0; l < L; ++l)
            keepCh[size_t(l)] = keepHighest(scores.ffnChannel[size_t(l)], removeChannels, &report.removedChannels[size_t(l)]);
        report.nFFAfter = hp.nFF - removeChannels;
    } else {
        report.layerInfluence = scores.layerInfluence;
        std::vector<int> kept = keepHighest(scores.layerInfluence, L - keepLayers, &report.removedLayers);
        std::fill(newIndex.begin(), newIndex.end(), -1);
        for (size_t i = 0; i < kept.size(); ++i)
            newIndex[size_t(kept[i])] = int(i);
        report.nLayerAfter = keepLayers;
    }

    // Output tensors: spec + a producer of the bytes, in the source's order.
    struct Out {
        StreamTensorSpec spec;
        std::function<std::vector<uint8_t>()> make; // empty: copy the source's bytes
        const GGUFTensorInfo* from;
    };
    std::vector<Out> outs;
    auto expandRows = [hd](const std::vector<int>& units, int unitRows) {
        std::vector<int64_t> rows;
        for (int u : units)
            for (int j = 0; j < unitRows; ++j)
                rows.push_back(int64_t(u) * unitRows + j);
        (void)hd;
        return rows;
    };
    for (const GGUFTensorInfo& t : src->tensors()) {
        report.paramsBefore += t.elementCount();
        std::string suffix;
        const int l = layerOf(t.name, &suffix);
        Out o2{{t.name, t.type, t.ne}, {}, &t};
        if (l >= 0 && l < L) {
            if (newIndex[size_t(l)] < 0)
                continue; // a removed layer
            o2.spec.name = "blk." + std::to_string(newIndex[size_t(l)]) + "." + suffix;
            std::vector<int64_t> rowSel, colSel;
            if (o.method == PruneMethod::Heads) {
                if (suffix == "attn_q.weight" || suffix == "attn_q.bias")
                    rowSel = expandRows(keepHeads[size_t(l)], hd);
                else if (suffix == "attn_k.weight" || suffix == "attn_v.weight" || suffix == "attn_k.bias" ||
                         suffix == "attn_v.bias")
                    rowSel = expandRows(keepKv[size_t(l)], hd);
                else if (suffix == "attn_output.weight")
                    colSel = expandRows(keepHeads[size_t(l)], hd);
            } else if (o.method == PruneMethod::Ffn) {
                if (suffix == "ffn_gate.weight" || suffix == "ffn_up.weight")
                    rowSel = expandRows(keepCh[size_t(l)], 1);
                else if (suffix == "ffn_down.weight")
                    colSel = expandRows(keepCh[size_t(l)], 1);
            }
            if (!rowSel.empty() && t.ne.size() == 1) {
                // A bias: its elements are the rows' outputs.
                o2.spec.ne = {int64_t(rowSel.size())};
                o2.make = [&t, rowSel] {
                    std::vector<float> all(size_t(t.ne[0])), sel;
                    rowToFloat(t.type, t.data, all.data(), t.ne[0]);
                    for (int64_t r : rowSel)
                        sel.push_back(all[size_t(r)]);
                    std::vector<uint8_t> bytes(rowBytes(t.type, int64_t(sel.size())));
                    rowFromFloat(t.type, sel.data(), bytes.data(), int64_t(sel.size()));
                    return bytes;
                };
            } else if (!rowSel.empty()) {
                o2.spec.ne = {t.ne[0], int64_t(rowSel.size())};
                o2.make = [&t, rowSel] { // whole rows: a byte copy in any type
                    const size_t rb = rowBytes(t.type, t.ne[0]);
                    std::vector<uint8_t> bytes(rowSel.size() * rb);
                    for (size_t i = 0; i < rowSel.size(); ++i)
                        std::copy_n(t.data + size_t(rowSel[i]) * rb, rb, bytes.data() + i * rb);
                    return bytes;
                };
            } else if (!colSel.empty()) {
                o2.spec.ne = {int64_t(colSel.size()), t.ne[1]};
                o2.spec.type = chooseTensorType(o2.spec.ne, t.type);
                const GGMLType to = o2.spec.type;
                const int nThreads = resolveThreadCount(o.nThreads);
                o2.make = [&t, colSel, to, nThreads] { // part of each row: dequantize, gather, re-quantize
                    const int64_t cols = t.ne[0], rows = t.ne[1], nc = int64_t(colSel.size());
                    const size_t inRow = rowBytes(t.type, cols), outRow = rowBytes(to, nc);
                    std::vector<uint8_t> bytes(size_t(rows) * outRow);
                    parallelRanges(rows, nThreads, [&](int64_t b, int64_t e) {
                        std::vector<float> row(static_cast<size_t>(cols)), sel(static_cast<size_t>(nc));
                        for (int64_t r = b; r < e; ++r) {
                            rowToFloat(t.type, t.data + size_t(r) * inRow, row.data(), cols);
                            for (int64_t i = 0; i < nc; ++i)
                                sel[size_t(i)] = row[size_t(colSel[size_t(i)])];
                            rowFromFloat(to, sel.data(), bytes.data() + size_t(r) * outRow, nc);
                        }
                    });
                    return bytes;
                };
            }
        }
        int64_t n = 1;
        for (int64_t d : o2.spec.ne)
            n *= d;
        report.paramsAfter += n;
        outs.push_back(std::move(o2));
    }

    // Hyper-parameters: one number each (uniform cuts), standard keys any engine reads.
    std::vector<std::pair<std::string, GGUFValue>> metadata = src->metadata();
    const std::string arch = src->getString("general.architecture").value_or("llama");
    auto setKey = [&metadata](const std::string& key, GGUFValue value) {
        auto it = std::find_if(metadata.begin(), metadata.end(), [&key](const auto& kv) { return kv.first == key; });
        if (it != metadata.end())
            it->second = std::move(value);
        else
            metadata.emplace_back(key, std::move(value));
    };
    setKey(arch + ".block_count", GGUFValue::u32(uint32_t(report.nLayerAfter)));
    setKey(arch + ".feed_forward_length", GGUFValue::u32(uint32_t(report.nFFAfter)));
    setKey(arch + ".attention.head_count", GGUFValue::u32(uint32_t(report.nHeadAfter)));
    setKey(arch + ".attention.head_count_kv", GGUFValue::u32(uint32_t(report.nHeadKvAfter)));
    if (o.method == PruneMethod::Heads) {
        // n_embd / n_head no longer gives the head size: say it.
        setKey(arch + ".attention.key_length", GGUFValue::u32(uint32_t(hd)));
        setKey(arch + ".attention.value_length", GGUFValue::u32(uint32_t(hd)));
        setKey(arch + ".rope.dimension_count", GGUFValue::u32(uint32_t(hp.ropeDim > 0 ? hp.ropeDim : hd)));
    }
    setKey("tenfold.prune.method", GGUFValue::string(pruneMethodName(o.method)));

    std::vector<StreamTensorSpec> specs;
    for (const Out& x : outs)
        specs.push_back(x.spec);
    GGUFStreamWriter writer(out, metadata, specs);
    for (size_t i = 0; i < outs.size(); ++i) {
        checkCancel(o.cancel);
        if (outs[i].make) {
            const std::vector<uint8_t> bytes = outs[i].make();
            writer.append(bytes.data(), bytes.size());
        } else {
            writer.append(outs[i].from->data, outs[i].from->nbytes);
        }
        if (o.progress)
            o.progress("writing", int(i + 1), int(outs.size()));
    }
    writer.finish();
    report.bytesAfter = writer.bytesWritten();
    return report;
}

} // namespace tenfold
