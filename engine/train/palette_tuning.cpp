#include "train/palette_tuning.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/gguf_stream_writer.h"
#include "passes/palette.h"
#include "tensor/ggml_type.h"
#include "tensor/half.h"
#include "tensor/quant_blocks.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/model_io.h"
#include "train/optim.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

namespace tenfold::train {
namespace {

// Straight-through residuals of integer codes (PaletteTuneOptions::codes): weight i sits at
// entry(code[i]) + res[i] * spacing, where spacing is its tensor's mean gap between neighbouring
// entries, so one learning rate fits tensors of any scale. Adam per weight (no decay): a weight
// travels about the learning rate per step while its gradient keeps one sign and dithers
// while it does not, so the codes that switch are those pushed steadily one way. The step is
// mhat / sqrt(vhat) with no epsilon: these gradients are tiny (dL/dW times a row scale) and a
// fixed epsilon would swamp some tensors; a weight with no gradient yet stays.
// (Tried and worse on ref-main: one second moment per tensor, so weights move in proportion to
// their gradient; it switched large-gradient codes whose curvature made the switch a loss.)
struct CodeResiduals {
    std::vector<float> res, m, v;
    float spacing = 1;
    void init(size_t n, float sp)
    {
        res.assign(n, 0.0f);
        m.assign(n, 0.0f);
        v.assign(n, 0.0f);
        spacing = sp > 0 ? sp : 1.0f;
    }
    // Adam on weight i with gW = dL/dW * dW/dlatent; returns the new residual in value units.
    // The residual also decays towards its entry (rate `decay` per unit of lr): pure noise then
    // wanders in a bounded range instead of drifting across a boundary in a long run, and a code
    // can only switch while |mhat / sqrt(vhat)| (between 0 and 1: how steadily the gradient
    // keeps one sign) stays above decay / 2 times its gap in mean spacings (a residual settles
    // at steadiness / decay, and must pass half the gap to the next entry).
    float step(size_t i, float gW, float lr, float decay, float bc1, float bc2)
    {
        const float g = gW * spacing;
        m[i] = 0.9f * m[i] + 0.1f * g;
        v[i] = 0.999f * v[i] + 0.001f * g * g;
        const float vh = std::sqrt(v[i] / bc2);
        res[i] -= lr * ((vh > 0 ? (m[i] / bc1) / vh : 0.0f) + decay * res[i]);
        return res[i] * spacing;
    }
    // The code moved from an entry to one `moved` away (value units): keep the latent in place.
    void rebase(size_t i, float moved) { res[i] -= moved / spacing; }
};

// Half the distance from each of k entries to its nearest other entry: a residual smaller than
// that cannot make another entry nearer, so most weights skip the search.
void halfGaps(const float* t, int k, float* out)
{
    for (int e = 0; e < k; ++e) {
        float g = INFINITY;
        for (int f = 0; f < k; ++f)
            if (f != e)
                g = std::min(g, std::abs(t[e] - t[f]));
        out[e] = 0.5f * g;
    }
}

// Nearest of k entries in any order (tuned tables need not stay sorted).
int nearestAny(const float* t, int k, float v)
{
    int best = 0;
    for (int e = 1; e < k; ++e)
        if (std::abs(t[e] - v) < std::abs(t[best] - v))
            best = e;
    return best;
}

// A palette weight [rows x cols]: W[r][j] = scale[r] * table[(r / groupRows) * k + index[r][j]].
struct PaletteParam {
    std::string name;
    size_t offset = 0;
    int64_t rows = 0, cols = 0, groupRows = 1;
    int k = 16, bits = 4;
    bool hasScale = false;
    std::vector<uint8_t> index;  // [rows * cols]
    std::vector<float> table;    // [groups * k]
    std::vector<float> scale;    // [rows] (1 without row scales)

    // dL/dtable and dL/dscale from dL/dW (the chain rule through W = scale * table[index]).
    void gradients(const float* G, float* gTable, float* gScale) const
    {
        std::fill(gTable, gTable + table.size(), 0.0f);
        for (int64_t r = 0; r < rows; ++r) {
            const float* t = table.data() + (r / groupRows) * k;
            float* gt = gTable + (r / groupRows) * k;
            const uint8_t* q = index.data() + r * cols;
            const float* g = G + offset + r * cols;
            double gs = 0;
            for (int64_t j = 0; j < cols; ++j) {
                gt[q[j]] += scale[size_t(r)] * g[j];
                gs += double(t[q[j]]) * g[j];
            }
            if (hasScale)
                gScale[r] = float(gs);
        }
    }
    float meanSpacing() const
    {
        double s = 0;
        const size_t groups = table.size() / size_t(k);
        for (size_t g = 0; g < groups; ++g) {
            const auto [lo, hi] = std::minmax_element(table.begin() + ptrdiff_t(g * size_t(k)),
                                                      table.begin() + ptrdiff_t((g + 1) * size_t(k)));
            s += double(*hi - *lo) / (k - 1);
        }
        return float(s / double(groups));
    }
    // One straight-through step of the indices (after the tables moved): returns how many changed.
    int64_t updateCodes(const float* G, CodeResiduals& c, float lr, float decay, float bc1, float bc2)
    {
        int64_t changed = 0;
        std::vector<float> gap(static_cast<size_t>(k));
        for (int64_t r = 0; r < rows; ++r) {
            const float* t = table.data() + (r / groupRows) * k;
            if (r % groupRows == 0)
                halfGaps(t, k, gap.data());
            uint8_t* q = index.data() + r * cols;
            const float* g = G + offset + r * cols;
            for (int64_t j = 0; j < cols; ++j) {
                const size_t e = size_t(r * cols + j);
                const float dv = c.step(e, g[j] * scale[size_t(r)], lr, decay, bc1, bc2);
                if (std::abs(dv) < gap[q[j]])
                    continue;
                const int n = nearestAny(t, k, t[q[j]] + dv);
                if (n != q[j]) {
                    c.rebase(e, t[n] - t[q[j]]);
                    q[j] = uint8_t(n);
                    ++changed;
                }
            }
        }
        return changed;
    }
    void materialize(float* params) const
    {
        for (int64_t r = 0; r < rows; ++r) {
            const float* t = table.data() + (r / groupRows) * k;
            const uint8_t* q = index.data() + r * cols;
            float* w = params + offset + r * cols;
            for (int64_t j = 0; j < cols; ++j)
                w[j] = scale[size_t(r)] * t[q[j]];
        }
    }
};

// A 32-block tensor with one f16 scale per block and fixed integer levels (Q4_0, Q8_0, IQ4_NL):
// W = d_b * level. The scales train in F32 and are rounded to f16 when written; the levels stay
// unless the codes are tuned too.
struct BlockParam {
    std::string name;
    GGMLType type = GGMLType::Q8_0;
    size_t offset = 0;
    std::vector<int8_t> level;   // [rows * cols]
    std::vector<float> d;        // [rows * cols / 32]

    void gradients(const float* G, float* gD) const
    {
        for (size_t b = 0; b < d.size(); ++b) {
            double s = 0;
            for (int i = 0; i < kQK; ++i)
                s += double(level[b * kQK + size_t(i)]) * G[offset + b * kQK + size_t(i)];
            gD[b] = float(s);
        }
    }
    // The levels a code may take, ascending, and their mean spacing.
    std::vector<float> levels() const
    {
        std::vector<float> v;
        if (type == GGMLType::IQ4_NL)
            v.assign(std::begin(kIQ4Values), std::end(kIQ4Values));
        else
            for (int l = type == GGMLType::Q4_0 ? -8 : -127; l <= (type == GGMLType::Q4_0 ? 7 : 127); ++l)
                v.push_back(float(l));
        return v;
    }
    float meanSpacing() const
    {
        const std::vector<float> v = levels();
        return (v.back() - v.front()) / float(v.size() - 1);
    }
    int64_t updateCodes(const float* G, CodeResiduals& c, float lr, float decay, float bc1, float bc2)
    {
        const std::vector<float> lv = levels();
        std::vector<float> gap(lv.size());
        halfGaps(lv.data(), int(lv.size()), gap.data());
        const int lo = int(lv.front());
        int64_t changed = 0;
        for (size_t b = 0; b < d.size(); ++b)
            for (int i = 0; i < kQK; ++i) {
                const size_t e = b * kQK + size_t(i);
                const float dv = c.step(e, G[offset + e] * d[b], lr, decay, bc1, bc2);
                // position of the current level in lv: levels are consecutive integers except IQ4_NL's
                // (clamped: another writer's Q8_0 may hold -128, which then searches from -127's gap)
                const int at = std::clamp(type == GGMLType::IQ4_NL
                                              ? int(std::find(lv.begin(), lv.end(), float(level[e])) - lv.begin())
                                              : level[e] - lo,
                                          0, int(lv.size()) - 1);
                if (std::abs(dv) < gap[size_t(at)])
                    continue;
                const int n = nearestAny(lv.data(), int(lv.size()), float(level[e]) + dv);
                if (lv[size_t(n)] != float(level[e])) {
                    c.rebase(e, lv[size_t(n)] - float(level[e]));
                    level[e] = int8_t(lv[size_t(n)]);
                    ++changed;
                }
            }
        return changed;
    }
    // The block bytes with the levels as they are now (the scale field is written separately).
    void packLevels(uint8_t* bytes, size_t blockBytes) const
    {
        for (size_t b = 0; b < d.size(); ++b) {
            const int8_t* l = level.data() + b * kQK;
            if (type == GGMLType::Q8_0) {
                std::memcpy(reinterpret_cast<BlockQ8_0*>(bytes + b * blockBytes)->qs, l, kQK);
                continue;
            }
            auto nibble = [&](int8_t v) {
                if (type == GGMLType::Q4_0)
                    return v + 8;
                return int(std::find(std::begin(kIQ4Values), std::end(kIQ4Values), v) - std::begin(kIQ4Values));
            };
            auto* blk = reinterpret_cast<BlockQ4_0*>(bytes + b * blockBytes);
            for (int i = 0; i < kQK / 2; ++i)
                blk->qs[i] = uint8_t(nibble(l[i]) | (nibble(l[i + kQK / 2]) << 4));
        }
    }
    void materialize(float* params) const
    {
        for (size_t b = 0; b < d.size(); ++b)
            for (int i = 0; i < kQK; ++i)
                params[offset + b * kQK + size_t(i)] = d[b] * float(level[b * kQK + size_t(i)]);
    }
};

// The free numbers of every tuned tensor as one vector for AdamW, each divided by its tensor's
// mean magnitude (so one learning rate is a relative change for tables near 1, row scales near
// 0.03 and block scales near 0.001 alike); the dense weights are rebuilt from them after a step.
class ReducedParams {
public:
    struct Span {
        float* values;  // the live numbers (a table, scales, ...)
        size_t n;
        float unit;     // mean |value| at the start
        size_t at;      // first index in theta
    };
    void add(float* values, size_t n)
    {
        double s = 0;
        for (size_t i = 0; i < n; ++i)
            s += std::abs(values[i]);
        const float unit = s > 0 ? float(s / double(n)) : 1.0f;
        spans_.push_back({values, n, unit, theta_.size()});
        for (size_t i = 0; i < n; ++i)
            theta_.push_back(values[i] / unit);
    }
    size_t size() const { return theta_.size(); }
    // A step: begin() clears the gradients, the caller fills dL/dvalue of span i at
    // gradientOf(i), step() takes one AdamW step and writes the new values back.
    void begin() { grad_.assign(theta_.size(), 0.0f); }
    float* gradientOf(size_t span) { return grad_.data() + spans_[span].at; }
    void step(double lr)
    {
        if (!opt_)
            opt_ = std::make_unique<AdamW>(theta_.size(), AdamWOptions{});
        for (const Span& s : spans_)
            for (size_t i = 0; i < s.n; ++i)
                grad_[s.at + i] *= s.unit; // d/dtheta = d/dvalue * unit
        opt_->step(theta_.data(), grad_.data(), lr);
        for (const Span& s : spans_)
            for (size_t i = 0; i < s.n; ++i)
                s.values[i] = theta_[s.at + i] * s.unit;
    }

private:
    std::vector<Span> spans_;
    std::vector<float> theta_, grad_;
    std::unique_ptr<AdamW> opt_;
};

bool blockTunable(GGMLType t) { return t == GGMLType::Q4_0 || t == GGMLType::Q8_0 || t == GGMLType::IQ4_NL; }

BlockParam blockParam(const WeightTensor& w, size_t offset)
{
    BlockParam p;
    p.name = w.name;
    p.type = w.type;
    p.offset = offset;
    p.level.resize(size_t(w.ne0 * w.ne1));
    p.d.resize(size_t(w.ne0 * w.ne1 / kQK));
    uint16_t h = 0;
    const int64_t perRow = w.ne0 / kQK;
    for (int64_t r = 0; r < w.ne1; ++r)
        for (int64_t b = 0; b < perRow; ++b) {
            int8_t* l = p.level.data() + r * w.ne0 + b * kQK;
            const size_t bi = size_t(r * perRow + b);
            if (w.type == GGMLType::Q8_0) {
                const auto* blk = reinterpret_cast<const BlockQ8_0*>(w.row(r)) + b;
                h = blk->d;
                std::memcpy(l, blk->qs, kQK);
            } else { // Q4_0 and IQ4_NL: element i low nibble of qs[i], i + 16 high nibble
                const auto* blk = reinterpret_cast<const BlockQ4_0*>(w.row(r)) + b;
                static_assert(sizeof(BlockQ4_0) == sizeof(BlockIQ4_NL));
                h = blk->d;
                for (int i = 0; i < kQK / 2; ++i) {
                    const int lo = blk->qs[i] & 15, hi = blk->qs[i] >> 4;
                    l[i] = int8_t(w.type == GGMLType::Q4_0 ? lo - 8 : kIQ4Values[lo]);
                    l[i + kQK / 2] = int8_t(w.type == GGMLType::Q4_0 ? hi - 8 : kIQ4Values[hi]);
                }
            }
            p.d[bi] = fp16ToFp32(h);
        }
    return p;
}

PaletteParam paletteParam(const WeightTensor& w, size_t offset)
{
    const PaletteWeight& pw = *w.palette;
    PaletteParam p;
    p.name = w.name;
    p.offset = offset;
    p.rows = w.ne1;
    p.cols = w.ne0;
    p.groupRows = pw.groupRows;
    p.k = pw.entries();
    p.bits = pw.bits;
    p.hasScale = pw.rowScale != nullptr;
    p.index.resize(size_t(w.ne0 * w.ne1));
    for (int64_t r = 0; r < w.ne1; ++r)
        for (int64_t j = 0; j < w.ne0; ++j)
            p.index[size_t(r * w.ne0 + j)] = uint8_t(paletteIndex(pw.indices + size_t(r) * pw.indexRowBytes, pw.bits, j));
    p.table.assign(pw.table, pw.table + pw.groups * pw.entries());
    p.scale.assign(size_t(w.ne1), 1.0f);
    if (pw.rowScale)
        p.scale.assign(pw.rowScale, pw.rowScale + w.ne1);
    return p;
}

PaletteTuneReport tune(const std::filesystem::path& path, const std::filesystem::path& teacherPath,
                       const std::function<TokenDataset(const Model&)>& makeData, const PaletteTuneOptions& options,
                       const std::function<void(const StepReport&)>& onStep, const std::atomic<bool>* cancel,
                       const std::atomic<bool>* pause)
{
    PaletteTuneReport report;
    const std::shared_ptr<const Model> source = Model::loadGGUF(path);
    if (!source->gguf())
        throw InvalidArgument(path.string() + ": palette tuning rewrites a GGUF file");
    TrainableModel student = loadTrainable(source);
    TrainableModel teacher = loadTrainable(Model::loadGGUF(teacherPath));
    const ParamLayout layout(student.config);
    if (ParamLayout(teacher.config).count() != layout.count() || teacher.config.vocab != student.config.vocab)
        throw InvalidArgument("the teacher " + teacherPath.string() + " does not have the shape of " + path.string() +
                              " (palette tuning fits a compressed model to the model it was made from)");

    std::map<std::string, const WeightTensor*> weights;
    auto add = [&](const WeightTensor& w) {
        if (w.present())
            weights[w.name] = &w;
    };
    add(source->tokenEmbedding());
    add(source->outputNorm());
    add(source->output());
    for (const LayerWeights& l : source->layers())
        for (const WeightTensor* w : {&l.attnNorm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffnNorm, &l.ffnGate, &l.ffnUp, &l.ffnDown})
            add(*w);

    std::vector<PaletteParam> palettes;
    std::vector<BlockParam> blocks;
    struct PlainParam { // F32/F16 tensors (norms, a dense embedding): trained as they are
        std::string name;
        size_t offset = 0;
        std::vector<float> values;
    };
    std::vector<PlainParam> plains;
    for (const ParamView& v : layout.views()) {
        const auto it = weights.find(v.name);
        if (it == weights.end())
            throw UnsupportedError(path.string() + ": no tensor " + v.name + " for the training layout");
        const WeightTensor& w = *it->second;
        if (w.palette) {
            palettes.push_back(paletteParam(w, v.offset));
            report.freeParameters += palettes.back().table.size() + (palettes.back().hasScale ? size_t(w.ne1) : 0);
        } else if (blockTunable(w.type)) {
            blocks.push_back(blockParam(w, v.offset));
            report.freeParameters += blocks.back().d.size();
        } else if (w.type == GGMLType::F32 || w.type == GGMLType::F16) {
            plains.push_back({v.name, v.offset, std::vector<float>(student.params.begin() + ptrdiff_t(v.offset),
                                                                   student.params.begin() + ptrdiff_t(v.offset + v.size()))});
            report.freeParameters += v.size();
        } else {
            ++report.frozenTensors; // its dense values never change: no step touches them
        }
    }
    report.paletteTensors = int(palettes.size());
    report.blockTensors = int(blocks.size());
    if (palettes.empty() && blocks.empty())
        throw InvalidArgument(path.string() + " has no palette weights nor Q4_0/Q8_0/IQ4_NL tensors to tune");

    ReducedParams reduced; // the vectors above are complete, so their data pointers stay valid
    for (PaletteParam& p : palettes) {
        if (options.tables)
            reduced.add(p.table.data(), p.table.size());
        if (p.hasScale && options.rowScales)
            reduced.add(p.scale.data(), p.scale.size());
    }
    if (options.blockScales)
        for (BlockParam& b : blocks)
            reduced.add(b.d.data(), b.d.size());
    if (options.plain)
        for (PlainParam& q : plains)
            reduced.add(q.values.data(), q.values.size());
    if (reduced.size() == 0 && !options.codes)
        throw InvalidArgument("palette tuning: every part is switched off, nothing would move");
    std::vector<float> scratch;

    // With `codes`: a residual per coded weight, and the codes as they start (for the report).
    std::vector<CodeResiduals> paletteCodes(options.codes ? palettes.size() : 0), blockCodes(options.codes ? blocks.size() : 0);
    std::vector<std::vector<uint8_t>> startIndex;
    std::vector<std::vector<int8_t>> startLevel;
    if (options.codes) {
        if (!(options.codeLr > 0))
            throw InvalidArgument("palette tuning: the code learning rate must be positive");
        if (!(options.codeDecay >= 0 && options.codeDecay < 2))
            throw InvalidArgument("palette tuning: the code residuals' decay must be in [0, 2) (at 2 no code could switch)");
        for (size_t i = 0; i < palettes.size(); ++i) {
            paletteCodes[i].init(palettes[i].index.size(), palettes[i].meanSpacing());
            startIndex.push_back(palettes[i].index);
            report.codeCount += int64_t(palettes[i].index.size());
        }
        for (size_t i = 0; i < blocks.size(); ++i) {
            blockCodes[i].init(blocks[i].level.size(), blocks[i].meanSpacing());
            startLevel.push_back(blocks[i].level);
            report.codeCount += int64_t(blocks[i].level.size());
        }
    }
    int64_t codeSteps = 0;

    TrainOptions o = options.train;
    o.cancel = cancel;
    o.pause = pause;
    o.mask.clear();
    o.checkpointDir.clear();
    o.step = [&](float* params, const float* grads, double lr) {
        reduced.begin();
        size_t span = 0;
        for (const PaletteParam& p : palettes) { // a part that stays put computes into scratch
            scratch.resize(std::max(p.table.size(), p.scale.size()));
            float* gTable = options.tables ? reduced.gradientOf(span++) : scratch.data();
            float* gScale = !p.hasScale ? nullptr : options.rowScales ? reduced.gradientOf(span++) : scratch.data();
            p.gradients(grads, gTable, gScale);
        }
        if (options.blockScales)
            for (const BlockParam& b : blocks)
                b.gradients(grads, reduced.gradientOf(span++));
        if (options.plain)
            for (const PlainParam& q : plains)
                std::copy(grads + q.offset, grads + q.offset + q.values.size(), reduced.gradientOf(span++));
        if (reduced.size() > 0)
            reduced.step(lr);
        if (options.codes) { // after the tables moved, so a code switches to the entry nearest now
            ++codeSteps;
            const float clr = float(options.codeLr * lr / options.train.lr), decay = float(options.codeDecay);
            const float bc1 = float(1 - std::pow(0.9, double(codeSteps)));
            const float bc2 = float(1 - std::pow(0.999, double(codeSteps)));
            for (size_t i = 0; i < palettes.size(); ++i)
                palettes[i].updateCodes(grads, paletteCodes[i], clr, decay, bc1, bc2);
            for (size_t i = 0; i < blocks.size(); ++i)
                blocks[i].updateCodes(grads, blockCodes[i], clr, decay, bc1, bc2);
        }
        for (const PaletteParam& p : palettes)
            p.materialize(params);
        for (const BlockParam& b : blocks)
            b.materialize(params);
        for (const PlainParam& q : plains)
            std::copy(q.values.begin(), q.values.end(), params + q.offset);
    };
    if (options.validFraction <= 0)
        throw InvalidArgument("palette tuning needs validFraction > 0 (held-out text for the before/after loss)");
    const TokenDataset data = makeData(*source);
    report.validWindows = o.evalWindows > 0 ? std::min(o.evalWindows, data.validWindows()) : data.validWindows();
    Trainer trainer(student.config, std::move(student.params), data, std::move(o));
    trainer.setTeacher(teacher.config, std::move(teacher.params));
    report.valLossBefore = trainer.validationLoss();
    report.train = trainer.run(onStep);
    report.valLossAfter = report.train.valLoss;
    for (size_t i = 0; i < startIndex.size(); ++i)
        for (size_t e = 0; e < startIndex[i].size(); ++e)
            report.codesChanged += startIndex[i][e] != palettes[i].index[e];
    for (size_t i = 0; i < startLevel.size(); ++i)
        for (size_t e = 0; e < startLevel[i].size(); ++e)
            report.codesChanged += startLevel[i][e] != blocks[i].level[e];

    // The same tensors in the same order; only tables, row scales, block scales and the plain
    // tensors (norms) get new bytes, and with `codes` the packed indices and block levels.
    const GGUFFile& file = *source->gguf();
    std::map<std::string, const PaletteParam*> tables, scales, indices;
    std::map<std::string, const BlockParam*> blockOf;
    std::map<std::string, const PlainParam*> plainOf;
    for (const PlainParam& q : plains)
        plainOf[q.name] = &q;
    for (const PaletteParam& p : palettes) {
        tables[p.name + ".pal_tab"] = &p;
        scales[p.name + ".pal_scale"] = &p;
        if (options.codes)
            indices[p.name + ".pal_idx"] = &p;
    }
    for (const BlockParam& b : blocks)
        blockOf[b.name] = &b;
    std::vector<StreamTensorSpec> specs;
    for (const GGUFTensorInfo& t : file.tensors())
        specs.push_back({t.name, t.type, t.ne});
    GGUFStreamWriter writer(path, file.metadata(), specs);
    for (const GGUFTensorInfo& t : file.tensors()) {
        if (auto i = tables.find(t.name); i != tables.end()) {
            writer.append(i->second->table.data(), i->second->table.size() * 4);
        } else if (auto j = scales.find(t.name); j != scales.end()) {
            writer.append(j->second->scale.data(), j->second->scale.size() * 4);
        } else if (auto x = indices.find(t.name); x != indices.end()) {
            const PaletteParam& p = *x->second;
            std::vector<uint8_t> bytes(t.nbytes);
            const size_t rowBytes = t.nbytes / size_t(p.rows);
            std::vector<int> row(size_t(p.cols));
            for (int64_t r = 0; r < p.rows; ++r) {
                std::copy(p.index.begin() + ptrdiff_t(r * p.cols), p.index.begin() + ptrdiff_t((r + 1) * p.cols), row.begin());
                packIndices(row.data(), p.cols, p.bits, bytes.data() + size_t(r) * rowBytes);
            }
            writer.append(bytes.data(), bytes.size());
        } else if (auto b = blockOf.find(t.name); b != blockOf.end()) {
            std::vector<uint8_t> bytes(t.data, t.data + t.nbytes);
            const size_t blockBytes = typeTraits(t.type).blockBytes;
            if (options.codes)
                b->second->packLevels(bytes.data(), blockBytes);
            for (size_t k = 0; k < b->second->d.size(); ++k) { // d is every block's first field
                const uint16_t h = fp32ToFp16(b->second->d[k]);
                std::memcpy(bytes.data() + k * blockBytes, &h, 2);
            }
            writer.append(bytes.data(), bytes.size());
        } else if (auto f = plainOf.find(t.name); f != plainOf.end()) {
            const float* v = f->second->values.data();
            const size_t n = size_t(t.elementCount());
            if (t.type == GGMLType::F32) {
                writer.append(v, n * 4);
            } else {
                std::vector<uint16_t> h(n);
                for (size_t e = 0; e < n; ++e)
                    h[e] = fp32ToFp16(v[e]);
                writer.append(h.data(), n * 2);
            }
        } else {
            writer.append(t.data, t.nbytes);
        }
    }
    writer.finish();
    return report;
}

} // namespace

PaletteTuneReport tunePaletteModel(const std::filesystem::path& path, const std::filesystem::path& teacher,
                                   std::string_view text, const PaletteTuneOptions& options,
                                   const std::function<void(const StepReport&)>& onStep,
                                   const std::atomic<bool>* cancel, const std::atomic<bool>* pause)
{
    return tune(
        path, teacher,
        [&](const Model& m) {
            return TokenDataset::fromText(m.tokenizer(), text, options.ctx, options.validFraction, path.string());
        },
        options, onStep, cancel, pause);
}

PaletteTuneReport tunePaletteModel(const std::filesystem::path& path, const std::filesystem::path& teacher,
                                   std::vector<int32_t> tokens, const PaletteTuneOptions& options,
                                   const std::function<void(const StepReport&)>& onStep,
                                   const std::atomic<bool>* cancel, const std::atomic<bool>* pause)
{
    return tune(
        path, teacher,
        [&](const Model& m) { return TokenDataset(std::move(tokens), options.ctx, options.validFraction, m.tokenizer().bos()); },
        options, onStep, cancel, pause);
}

} // namespace tenfold::train
