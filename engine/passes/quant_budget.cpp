#include "passes/quant_budget.h"

#include "core/error.h"
#include "gguf/gguf_encode.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "model/model_builder.h"
#include "passes/parallel_rows.h"
#include "passes/calibration_windows.h"
#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace tenfold {
namespace {

// The model's views of one GGUF tensor (two when the output head ties token_embd).
std::vector<WeightTensor*> viewsOf(Model& m, const std::string& name)
{
    std::vector<WeightTensor*> v;
    auto consider = [&](WeightTensor& w) {
        if (w.present() && w.name == name)
            v.push_back(&w);
    };
    consider(ModelBuilder::tokenEmbedding(m));
    consider(ModelBuilder::output(m));
    for (LayerWeights& l : ModelBuilder::layers(m))
        for (WeightTensor* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffnGate, &l.ffnUp, &l.ffnDown})
            consider(*w);
    return v;
}

// log-softmax of one row of logits, in place
void logSoftmax(float* row, int n)
{
    const float lse = float(logSumExp(std::span<const float>(row, size_t(n))));
    for (int i = 0; i < n; ++i)
        row[i] -= lse;
}

// The windows the measurements run over, and the base model's log-probabilities on them.
class KldProbe {
public:
    KldProbe(std::shared_ptr<const Model> model, std::span<const int32_t> tokens, const BudgetOptions& o)
        : o_(o), vocab_(model->hparams().nVocab), first_(o.nCtx / 2),
          windows_(std::move(model), tokens, o.nCtx, std::max(1, o.chunks), o.nThreads, "measuring sensitivities")
    {
        base_.resize(size_t(windows_.count()));
        for (int c = 0; c < windows_.count(); ++c) {
            windows_.run(c, first_, base_[size_t(c)], o_.cancel);
            for (int r = 0; r < scoredRows(); ++r)
                logSoftmax(base_[size_t(c)].data() + size_t(r) * vocab_, vocab_);
        }
    }

    // Mean KL divergence of the model as it is now (some tensor swapped) from the base.
    double measure()
    {
        double sum = 0;
        int64_t n = 0;
        const int rows = scoredRows();
        std::vector<double> perRow(static_cast<size_t>(rows));
        for (int c = 0; c < windows_.count(); ++c) {
            windows_.run(c, first_, logits_, o_.cancel);
            const std::vector<float>& base = base_[size_t(c)];
            parallelRanges(rows, resolveThreadCount(o_.nThreads), [&](int64_t r0, int64_t r1) {
                for (int64_t r = r0; r < r1; ++r) {
                    float* q = logits_.data() + size_t(r) * vocab_;
                    logSoftmax(q, vocab_);
                    const float* p = base.data() + size_t(r) * vocab_;
                    double k = 0;
                    for (int i = 0; i < vocab_; ++i)
                        k += std::exp(double(p[i])) * (double(p[i]) - double(q[i]));
                    perRow[size_t(r)] = std::max(0.0, k);
                }
            });
            for (double k : perRow)
                sum += k;
            n += rows;
        }
        return n ? sum / double(n) : 0.0;
    }

private:
    // Rows first..nCtx-2: the predictions the perplexity method scores (the last has no target).
    int scoredRows() const { return o_.nCtx - 1 - first_; }

    const BudgetOptions& o_;
    int vocab_ = 0, first_ = 0;
    CalibrationWindows windows_;
    std::vector<std::vector<float>> base_;
    std::vector<float> logits_;
};

} // namespace

std::vector<size_t> solveBudget(const std::vector<TensorSensitivity>& tensors, uint64_t budgetBytes)
{
    // Knapsack: minimise the summed loss with the tensors' bytes within the budget. Bytes are
    // counted in units (1 KiB, coarser for big models so the table stays small), rounded up, so
    // the plan never exceeds the budget.
    const uint64_t unit = std::max<uint64_t>(1024, budgetBytes / 200000 + 1);
    const size_t B = size_t(budgetBytes / unit);
    const size_t n = tensors.size();
    constexpr double kInf = std::numeric_limits<double>::infinity();
    std::vector<double> best(B + 1, 0.0), next(B + 1);
    std::vector<std::vector<uint8_t>> pick(n, std::vector<uint8_t>(B + 1, 0));
    auto units = [unit](uint64_t bytes) { return size_t((bytes + unit - 1) / unit); };
    for (size_t i = 0; i < n; ++i) {
        const auto& ops = tensors[i].options;
        if (ops.empty() || ops.size() > 255)
            throw InvalidArgument("tensor " + tensors[i].name + " has " + std::to_string(ops.size()) +
                                  " type options (1 to 255 allowed)");
        for (size_t b = 0; b <= B; ++b) {
            double v = kInf;
            for (size_t k = 0; k < ops.size(); ++k) {
                const size_t u = units(ops[k].bytes);
                if (u <= b && best[b - u] + ops[k].kld < v) {
                    v = best[b - u] + ops[k].kld;
                    pick[i][b] = uint8_t(k);
                }
            }
            next[b] = v;
        }
        best.swap(next);
    }
    if (!(best[B] < kInf))
        return {};
    std::vector<size_t> choice(n);
    size_t b = B;
    for (size_t i = n; i-- > 0;) {
        choice[i] = pick[i][b];
        b -= units(tensors[i].options[choice[i]].bytes);
    }
    return choice;
}

namespace {

// What planForSize counts before measuring anything: each weight's options with their padded
// bytes, the bytes that do not change, and the smallest file.
struct Layout {
    std::shared_ptr<GGUFFile> file;
    std::shared_ptr<Model> model;
    std::vector<const GGUFTensorInfo*> weights;
    std::vector<TensorSensitivity> options;
    uint64_t overhead = 0, fixedBytes = 0, smallest = 0;
};

Layout layoutOf(const std::filesystem::path& path, const BudgetOptions& o)
{
    Layout l;
    l.file = GGUFFile::open(path);
    l.model = Model::loadGGUF(l.file);
    // What does not change: the header with the tensor infos (a type change keeps their size),
    // and the 1-D tensors (they stay F32). Every tensor's bytes count padded to the file's
    // alignment, so the prediction is an upper bound.
    const uint64_t align = l.file->alignment();
    auto padded = [align](uint64_t bytes) { return (bytes + align - 1) / align * align; };
    for (const GGUFTensorInfo& t : l.file->tensors()) {
        if (t.ne.size() >= 2 && !viewsOf(*l.model, t.name).empty())
            l.weights.push_back(&t);
        else
            l.fixedBytes += padded(t.nbytes);
    }
    // The header as the quantizer will write it (types change, sizes of the infos do not).
    std::vector<GGUFTensorLayout> layout;
    for (const GGUFTensorInfo& t : l.file->tensors())
        layout.push_back({t.name, t.type, t.ne, t.nbytes});
    l.overhead = padded(encodeGGUFHeader(quantizedMetadata(*l.file, o.quantize.target), layout, align).size());
    for (const GGUFTensorInfo* t : l.weights) {
        TensorSensitivity s;
        s.name = t->name;
        std::set<GGMLType> types;
        for (GGMLType c : o.candidates)
            if (chooseTensorType(t->ne, c) == c)
                types.insert(c);
        if (o.keepSourceType || types.empty())
            types.insert(t->type);
        for (GGMLType c : types)
            s.options.push_back({c, padded(uint64_t(t->rows()) * rowBytes(c, t->ne[0])), c == t->type ? 0.0 : -1.0});
        l.options.push_back(std::move(s));
    }
    l.smallest = l.overhead + l.fixedBytes;
    for (const TensorSensitivity& s : l.options) {
        uint64_t m = std::numeric_limits<uint64_t>::max();
        for (const auto& op : s.options)
            m = std::min(m, op.bytes);
        l.smallest += m;
    }
    return l;
}

void checkReachable(const Layout& l, uint64_t target)
{
    if (target < l.smallest)
        throw InvalidArgument("a target of " + std::to_string(target) + " bytes is below the smallest file " +
                              "these types can make of this model: " + std::to_string(l.smallest) + " bytes");
}

} // namespace

uint64_t smallestMixBytes(const std::filesystem::path& model, const BudgetOptions& options)
{
    return layoutOf(model, options).smallest;
}

void checkTargetReachable(const std::filesystem::path& model, const BudgetOptions& options)
{
    checkReachable(layoutOf(model, options), options.targetBytes);
}

BudgetPlan planForSize(const std::filesystem::path& path, std::span<const int32_t> tokens, const BudgetOptions& o)
{
    if (o.targetBytes == 0)
        throw InvalidArgument("a target size is needed");
    Layout l = layoutOf(path, o);
    checkReachable(l, o.targetBytes);
    const std::shared_ptr<Model>& model = l.model;
    const std::vector<const GGUFTensorInfo*>& weights = l.weights;
    const int threads = resolveThreadCount(o.nThreads);
    BudgetPlan plan;
    plan.sensitivities = std::move(l.options);
    plan.smallestFileBytes = l.smallest;
    const uint64_t overhead = l.overhead, fixedBytes = l.fixedBytes, smallest = l.smallest;

    // Measure: one tensor at a time in each candidate type, the rest as they are.
    KldProbe probe(model, tokens, o);
    int total = 0, done = 0;
    for (const TensorSensitivity& s : plan.sensitivities)
        for (const auto& op : s.options)
            total += op.kld < 0;
    for (size_t i = 0; i < weights.size(); ++i) {
        const GGUFTensorInfo& t = *weights[i];
        std::vector<WeightTensor*> views = viewsOf(*model, t.name);
        const std::vector<WeightTensor> saved = [&] {
            std::vector<WeightTensor> v;
            for (WeightTensor* w : views)
                v.push_back(*w);
            return v;
        }();
        for (auto& op : plan.sensitivities[i].options) {
            if (op.kld >= 0)
                continue;
            std::vector<uint8_t> data;
            data.reserve(op.bytes);
            quantizeTensor(t, op.type, methodFor(o.quantize, t, op.type), o.quantize, threads,
                           [&data](const uint8_t* p, size_t n) { data.insert(data.end(), p, p + n); });
            for (WeightTensor* w : views) {
                w->type = op.type;
                w->data = data.data();
                w->rowBytes = rowBytes(op.type, t.ne[0]);
            }
            try {
                op.kld = probe.measure();
            } catch (...) {
                for (size_t k = 0; k < views.size(); ++k)
                    *views[k] = saved[k];
                throw;
            }
            for (size_t k = 0; k < views.size(); ++k)
                *views[k] = saved[k];
            if (o.progress)
                o.progress(++done, total, t.name);
        }
    }

    const uint64_t budget = o.targetBytes - overhead - fixedBytes;
    const std::vector<size_t> choice = solveBudget(plan.sensitivities, budget);
    if (choice.empty())
        throw InvalidArgument("no mix of the candidate types fits " + std::to_string(o.targetBytes) +
                              " bytes (the smallest is " + std::to_string(smallest) + ")");
    plan.predictedFileBytes = overhead + fixedBytes;
    for (size_t i = 0; i < choice.size(); ++i) {
        const auto& op = plan.sensitivities[i].options[choice[i]];
        plan.types[plan.sensitivities[i].name] = op.type;
        plan.predictedFileBytes += op.bytes;
        plan.predictedKld += op.kld;
    }
    return plan;
}

} // namespace tenfold
