#include "passes/imatrix.h"

#include "core/error.h"
#include "gguf/gguf_encode.h"
#include "model/model.h"
#include "passes/calibration_windows.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

namespace tenfold {

void ImportanceMatrix::accumulate(const std::string& tensor, const float* x, int rows, int64_t cols,
                                  int64_t ldx)
{
    Entry& e = entries_[tensor];
    if (e.sumSq.empty())
        e.sumSq.assign(size_t(cols), 0.0);
    if (int64_t(e.sumSq.size()) != cols)
        throw InvalidArgument("importance matrix: " + tensor + " has " + std::to_string(e.sumSq.size()) +
                              " columns, an input row of " + std::to_string(cols) + " was added");
    for (int r = 0; r < rows; ++r) {
        const float* row = x + size_t(r) * size_t(ldx);
        for (int64_t j = 0; j < cols; ++j)
            e.sumSq[size_t(j)] += double(row[j]) * double(row[j]);
    }
    e.rows += rows;
    if (std::find(touched_.begin(), touched_.end(), tensor) == touched_.end())
        touched_.push_back(tensor);
}

void ImportanceMatrix::endCall()
{
    for (const std::string& name : touched_)
        ++entries_[name].calls;
    touched_.clear();
    ++chunks_;
}

std::vector<float> ImportanceMatrix::columnWeights(const std::string& tensor) const
{
    auto it = entries_.find(tensor);
    if (it == entries_.end() || it->second.rows <= 0)
        return {};
    std::vector<float> w(it->second.sumSq.size());
    for (size_t j = 0; j < w.size(); ++j)
        w[j] = float(it->second.sumSq[j] / double(it->second.rows));
    return w;
}

namespace {

class Reader {
public:
    Reader(std::filesystem::path path, std::vector<char> bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {}
    bool atEnd() const { return at_ >= bytes_.size(); }
    uint64_t at() const { return at_; }
    int32_t i32(const char* what)
    {
        int32_t v;
        take(&v, sizeof v, what);
        return v;
    }
    void take(void* dst, size_t n, const char* what)
    {
        if (bytes_.size() - at_ < n)
            throw FormatError(path_.string(), at_,
                              std::string("the file ends inside ") + what + " (an imatrix.dat file is cut short)");
        std::memcpy(dst, bytes_.data() + at_, n);
        at_ += n;
    }
    [[noreturn]] void fail(const std::string& problem) const { throw FormatError(path_.string(), at_, problem); }

private:
    std::filesystem::path path_;
    std::vector<char> bytes_;
    size_t at_ = 0;
};

} // namespace

ImportanceMatrix ImportanceMatrix::read(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError("cannot open importance matrix " + path.string());
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Reader r(path, std::move(bytes));
    ImportanceMatrix m;
    const int32_t n = r.i32("the entry count");
    if (n <= 0 || n > 1000000)
        r.fail("entry count " + std::to_string(n) + " is not plausible (not an imatrix.dat file?)");
    int maxCalls = 0;
    for (int32_t i = 0; i < n; ++i) {
        const int32_t len = r.i32("a tensor name's length");
        if (len <= 0 || len > 4096)
            r.fail("tensor name length " + std::to_string(len) + " of entry " + std::to_string(i) + " is not plausible");
        std::string name(size_t(len), '\0');
        r.take(name.data(), name.size(), "a tensor name");
        const int32_t calls = r.i32("a call count");
        const int32_t nValues = r.i32("a value count");
        if (calls <= 0 || nValues <= 0 || nValues > (1 << 24))
            r.fail(name + ": call count " + std::to_string(calls) + " and value count " + std::to_string(nValues) +
                   " must both be positive");
        std::vector<float> values(static_cast<size_t>(nValues));
        r.take(values.data(), values.size() * sizeof(float), "a tensor's values");
        Entry e;
        e.calls = calls;
        // values = mean * calls: keep one "row" per call so columnWeights gives the mean back.
        e.rows = calls;
        e.sumSq.resize(values.size());
        for (size_t j = 0; j < values.size(); ++j) {
            if (!(values[j] >= 0.0f) || !std::isfinite(values[j]))
                r.fail(name + ": value " + std::to_string(j) + " is negative or not finite");
            e.sumSq[j] = double(values[j]);
        }
        maxCalls = std::max(maxCalls, calls);
        if (!m.entries_.emplace(std::move(name), std::move(e)).second)
            r.fail("tensor entry " + std::to_string(i) + " repeats an earlier name");
    }
    m.chunks_ = maxCalls;
    if (!r.atEnd()) { // trailer: last call and the calibration file's name
        m.chunks_ = r.i32("the call count trailer");
        const int32_t len = r.i32("the dataset name's length");
        if (len < 0 || len > 65536)
            r.fail("dataset name length " + std::to_string(len) + " is not plausible");
        m.dataset_.resize(size_t(len));
        r.take(m.dataset_.data(), m.dataset_.size(), "the dataset name");
    }
    return m;
}

void ImportanceMatrix::write(const std::filesystem::path& path) const
{
    AtomicFileWriter out(path);
    auto i32 = [&out](int32_t v) { out.write(&v, sizeof v); };
    i32(int32_t(entries_.size()));
    for (const auto& [name, e] : entries_) {
        i32(int32_t(name.size()));
        out.write(name.data(), name.size());
        const int32_t calls = std::max(1, e.calls);
        i32(calls);
        i32(int32_t(e.sumSq.size()));
        std::vector<float> values(e.sumSq.size());
        for (size_t j = 0; j < values.size(); ++j)
            values[j] = e.rows > 0 ? float(e.sumSq[j] / double(e.rows) * double(calls)) : 0.0f;
        out.write(values.data(), values.size() * sizeof(float));
    }
    i32(int32_t(chunks_));
    i32(int32_t(dataset_.size()));
    out.write(dataset_.data(), dataset_.size());
    out.commit();
}

ImportanceMatrix collectImportanceMatrix(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                                         const ImatrixOptions& options)
{
    const std::string outputName = model->output().name;
    CalibrationWindows windows(std::move(model), tokens, options.nCtx, options.maxChunks, options.nThreads,
                               "an importance matrix");
    ImportanceMatrix m;
    windows.context().setMatmulObserver([&](const WeightTensor& w, const float* x, int rows, int64_t ldx) {
        // Layer matrices only: the output head is not collected (as the reference does), nor
        // Tenfold's exit adapters.
        if (w.name == outputName || w.name.rfind("blk.", 0) != 0 || !options.wants(w.name))
            return;
        m.accumulate(w.name, x, rows, w.ne0, ldx);
    });
    std::vector<float> logits;
    for (int c = 0; c < windows.count(); ++c) {
        windows.run(c, options.nCtx - 1, logits, options.cancel);
        m.endCall();
        if (options.progress)
            options.progress(c + 1, windows.count());
    }
    return m;
}

} // namespace tenfold
