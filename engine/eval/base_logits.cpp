#include "eval/base_logits.h"

#include "core/byte_io.h"
#include "core/error.h"
#include "core/fnv.h"
#include "runtime/backend.h"
#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <system_error>

#include "core/platform.h"

namespace tenfold {
namespace {

constexpr char kMagic[4] = {'T', 'F', 'B', 'L'};
constexpr uint32_t kVersion = 1;
// Full16 keeps logits down to this far below the row's maximum: a token e^-64 times less likely
// than the top one carries no mass that a double sum would notice.
constexpr float kFull16Range = 64.0f;
constexpr float kFull16Levels = 65535.0f;

using bytes::get;
using bytes::put;

std::vector<uint8_t> keyBytes(const BaseLogitsKey& k)
{
    std::vector<uint8_t> out;
    put(out, k.baseFingerprint);
    put(out, k.tokensHash);
    for (int32_t v : {k.nCtx, k.firstScored, k.chunks, k.bos, k.nVocab, int32_t(k.format), k.topK})
        put(out, v);
    return out;
}

constexpr size_t kKeyBytes = 8 + 8 + 7 * 4;
constexpr size_t kHeaderBytes = 4 + 4 + kKeyBytes + 8 + 8; // magic .. positions, checksum

int64_t positionsPerChunk(const BaseLogitsKey& k) { return int64_t(k.nCtx) - 1 - k.firstScored; }

// The arrays in file order, as (pointer, element size, count), so that save, load and the size
// check walk the same list.
template <class B, class F>
void forEachArray(B& b, F&& fn)
{
    const size_t n = size_t(b.positions), v = size_t(b.key.nVocab), k = size_t(b.key.topK);
    fn(b.lse.data(), sizeof(double), n);
    fn(b.rest.data(), sizeof(double), n);
    fn(b.nll.data(), sizeof(double), n);
    fn(b.argmax.data(), sizeof(int32_t), n);
    switch (b.key.format) {
    case BaseLogitsFormat::Full32:
        fn(b.logits.data(), sizeof(float), n * v);
        break;
    case BaseLogitsFormat::Full16:
        fn(b.lo.data(), sizeof(float), n);
        fn(b.step.data(), sizeof(float), n);
        fn(b.codes.data(), sizeof(uint16_t), n * v);
        break;
    case BaseLogitsFormat::TopK:
        fn(b.ids.data(), sizeof(int32_t), n * k);
        fn(b.logits.data(), sizeof(float), n * k);
        break;
    }
}

void sizeArrays(BaseLogits& b)
{
    const size_t n = size_t(b.positions), v = size_t(b.key.nVocab), k = size_t(b.key.topK);
    b.lse.resize(n);
    b.rest.resize(n);
    b.nll.resize(n);
    b.argmax.resize(n);
    switch (b.key.format) {
    case BaseLogitsFormat::Full32:
        b.logits.resize(n * v);
        break;
    case BaseLogitsFormat::Full16:
        b.lo.resize(n);
        b.step.resize(n);
        b.codes.resize(n * v);
        break;
    case BaseLogitsFormat::TopK:
        b.ids.resize(n * k);
        b.logits.resize(n * k);
        break;
    }
}

bool validKey(const BaseLogitsKey& k)
{
    const bool formatOk = k.format == BaseLogitsFormat::Full32 || k.format == BaseLogitsFormat::Full16 ||
                          (k.format == BaseLogitsFormat::TopK && k.topK > 0 && k.topK < k.nVocab);
    return formatOk && k.nVocab > 0 && k.chunks > 0 && k.firstScored >= 0 && k.nCtx > k.firstScored + 1;
}

// Position p of the current window: appends its distribution in the key's form.
void keepRow(BaseLogits& b, std::span<const float> row, double lse, std::vector<int32_t>& order,
             std::vector<uint8_t>& kept)
{
    const size_t vocab = row.size();
    switch (b.key.format) {
    case BaseLogitsFormat::Full32:
        b.logits.insert(b.logits.end(), row.begin(), row.end());
        b.rest.push_back(0.0);
        return;
    case BaseLogitsFormat::Full16: {
        const auto [mn, mx] = std::minmax_element(row.begin(), row.end());
        const float lo = std::max(*mn, *mx - kFull16Range);
        const float step = (*mx - lo) / kFull16Levels;
        b.lo.push_back(lo);
        b.step.push_back(step);
        for (float v : row) {
            const float c = step > 0 ? std::nearbyint((v - lo) / step) : 0.0f;
            b.codes.push_back(uint16_t(std::clamp(c, 0.0f, kFull16Levels)));
        }
        b.rest.push_back(0.0);
        return;
    }
    case BaseLogitsFormat::TopK: {
        const size_t k = size_t(b.key.topK);
        // The K largest, ties by lower id, so the choice is reproducible.
        order.resize(vocab);
        std::iota(order.begin(), order.end(), 0);
        const auto larger = [&](int32_t a, int32_t z) {
            return row[size_t(a)] > row[size_t(z)] || (row[size_t(a)] == row[size_t(z)] && a < z);
        };
        std::nth_element(order.begin(), order.begin() + std::ptrdiff_t(k - 1), order.end(), larger);
        std::sort(order.begin(), order.begin() + std::ptrdiff_t(k), larger);
        kept.assign(vocab, 0);
        for (size_t e = 0; e < k; ++e) {
            b.ids.push_back(order[e]);
            b.logits.push_back(row[size_t(order[e])]);
            kept[size_t(order[e])] = 1;
        }
        // Summed directly, not as 1 - sum(top K): when the top K hold nearly all the mass, the
        // subtraction would keep only rounding noise.
        double rest = 0.0;
        for (size_t i = 0; i < vocab; ++i)
            if (!kept[i])
                rest += std::exp(double(row[i]) - lse);
        b.rest.push_back(rest);
        return;
    }
    }
}

} // namespace

const char* baseLogitsFormatName(BaseLogitsFormat f)
{
    switch (f) {
    case BaseLogitsFormat::Full32: return "full32";
    case BaseLogitsFormat::Full16: return "full16";
    case BaseLogitsFormat::TopK: return "top-k";
    }
    return "?";
}

uint64_t BaseLogits::bytes() const
{
    uint64_t n = kHeaderBytes;
    forEachArray(*this, [&](const void*, size_t size, size_t count) { n += uint64_t(size) * count + 8; });
    return n;
}

BaseLogitsKey makeBaseLogitsKey(uint64_t baseFingerprint, int32_t nVocab,
                                std::span<const int32_t> tokens, const PerplexityOptions& o,
                                int32_t topK)
{
    BaseLogitsKey k;
    k.baseFingerprint = baseFingerprint;
    k.nCtx = o.nCtx;
    k.firstScored = perplexityFirstScored(o);
    k.chunks = perplexityChunks(int64_t(tokens.size()), o);
    k.bos = o.bos;
    k.nVocab = nVocab;
    if (nVocab <= kFull32MaxVocab) {
        k.format = BaseLogitsFormat::Full32;
    } else if (topK > 0 && topK < nVocab) {
        k.format = BaseLogitsFormat::TopK;
        k.topK = topK;
    } else {
        k.format = BaseLogitsFormat::Full16;
    }
    // Only the tokens the windows cover: text past the last full window changes nothing.
    const size_t covered = std::min(tokens.size(), size_t(k.chunks) * size_t(std::max(0, k.nCtx)));
    k.tokensHash = fnv1a(tokens.data(), covered * sizeof(int32_t));
    return k;
}

BaseLogits computeBaseLogits(InferenceContext& base, std::span<const int32_t> tokens,
                             const PerplexityOptions& o, const BaseLogitsKey& key)
{
    validatePerplexityInput(base, tokens, o);
    if (!validKey(key) || key.nCtx != o.nCtx || key.firstScored != perplexityFirstScored(o) ||
        key.chunks != perplexityChunks(int64_t(tokens.size()), o))
        throw InvalidArgument("base logits key does not describe these windows");
    BaseLogits b;
    b.key = key;
    b.positions = int64_t(key.chunks) * positionsPerChunk(key);
    // Rows are appended position by position: size once, then empty (capacity stays).
    sizeArrays(b);
    for (auto* v : {&b.lse, &b.rest, &b.nll})
        v->clear();
    b.argmax.clear(), b.logits.clear(), b.ids.clear(), b.lo.clear(), b.step.clear(), b.codes.clear();

    const size_t vocab = size_t(key.nVocab);
    std::vector<int32_t> window, order;
    std::vector<float> logits;
    std::vector<uint8_t> kept;
    for (int c = 0; c < key.chunks; ++c) {
        if (o.cancel && o.cancel->load())
            throw Cancelled();
        runPerplexityWindow(base, tokens, c, o, window, logits);
        if (logits.size() != size_t(o.nCtx - key.firstScored) * vocab)
            throw InvalidArgument("the base model's vocabulary is not " + std::to_string(vocab) + " tokens");
        for (int j = key.firstScored; j < o.nCtx - 1; ++j) {
            const std::span<const float> row(logits.data() + size_t(j - key.firstScored) * vocab, vocab);
            const double lse = logSumExp(row);
            b.lse.push_back(lse);
            b.nll.push_back(lse - double(row[size_t(window[size_t(j + 1)])]));
            // First index of the maximum, as klDivergence() picks it.
            size_t top = 0;
            for (size_t i = 1; i < vocab; ++i)
                if (row[i] > row[top])
                    top = i;
            b.argmax.push_back(int32_t(top));
            keepRow(b, row, lse, order, kept);
        }
        if (o.progress)
            o.progress(c + 1, key.chunks);
    }
    return b;
}

std::filesystem::path baseLogitsCacheFile(const std::filesystem::path& dir, const BaseLogitsKey& key)
{
    const std::vector<uint8_t> bytes = keyBytes(key);
    return dir / (hex64(fnv1a(bytes.data(), bytes.size())) + ".tfbl");
}

void saveBaseLogits(const std::filesystem::path& file, const BaseLogits& b)
{
    std::vector<uint8_t> head(kMagic, kMagic + 4);
    put(head, kVersion);
    const std::vector<uint8_t> key = keyBytes(b.key);
    head.insert(head.end(), key.begin(), key.end());
    put(head, uint64_t(b.positions));
    put(head, fnv1a(head.data(), head.size()));

    std::error_code ec;
    if (file.has_parent_path())
        std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
        throw IoError(file.parent_path().string() + ": cannot create the cache folder: " + ec.message());
    std::filesystem::path tmp = file;
    tmp += ".tmp-" + std::to_string(platform::processId());
    bool ok = false;
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (out) {
            out.write(reinterpret_cast<const char*>(head.data()), std::streamsize(head.size()));
            forEachArray(b, [&](const void* p, size_t size, size_t count) {
                out.write(static_cast<const char*>(p), std::streamsize(size * count));
                const uint64_t sum = fnv1a(p, size * count);
                out.write(reinterpret_cast<const char*>(&sum), sizeof sum);
            });
            out.flush();
            ok = bool(out);
        }
    }
    if (!ok) {
        std::filesystem::remove(tmp, ec);
        throw IoError(tmp.string() + ": writing the base logits cache failed (no access or disk full?)");
    }
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw IoError(file.string() + ": cannot replace the base logits cache file: " + ec.message());
    }
}

std::optional<BaseLogits> loadBaseLogits(const std::filesystem::path& file, const BaseLogitsKey& key,
                                         std::string* why)
{
    auto refuse = [&](const std::string& reason) -> std::optional<BaseLogits> {
        if (why)
            *why = file.string() + ": " + reason;
        return std::nullopt;
    };
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return refuse("not cached yet");
    std::vector<uint8_t> head(kHeaderBytes);
    in.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
    head.resize(size_t(in.gcount()));
    if (head.size() < 4 || std::memcmp(head.data(), kMagic, 4) != 0)
        return refuse("not a Tenfold base logits file");
    size_t at = 4;
    uint32_t version = 0;
    if (!get(head, at, version) || version != kVersion)
        return refuse("base logits version " + std::to_string(version) + ", this build reads version " +
                      std::to_string(kVersion));
    if (head.size() < kHeaderBytes)
        return refuse("truncated header");
    BaseLogits b;
    BaseLogitsKey& k = b.key;
    int32_t format = 0;
    uint64_t positions = 0, sum = 0;
    get(head, at, k.baseFingerprint);
    get(head, at, k.tokensHash);
    for (int32_t* v : {&k.nCtx, &k.firstScored, &k.chunks, &k.bos, &k.nVocab, &format, &k.topK})
        get(head, at, *v);
    k.format = BaseLogitsFormat(format);
    get(head, at, positions);
    const size_t checked = at;
    get(head, at, sum);
    if (sum != fnv1a(head.data(), checked))
        return refuse("damaged header");
    if (!(k == key))
        return refuse("computed for another base model, text, window layout or form");
    if (!validKey(k) || positions != uint64_t(key.chunks) * uint64_t(positionsPerChunk(key)))
        return refuse("inconsistent header");
    b.positions = int64_t(positions);
    // The exact size before allocating anything, so a damaged file cannot ask for terabytes.
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(file, ec);
    if (ec || size != b.bytes())
        return refuse("size " + std::to_string(size) + " bytes where its header needs " +
                      std::to_string(b.bytes()) + " (truncated or damaged)");
    sizeArrays(b);
    bool intact = true;
    forEachArray(b, [&](void* p, size_t size, size_t count) {
        if (!intact)
            return;
        uint64_t s = 0;
        in.read(static_cast<char*>(p), std::streamsize(size * count));
        in.read(reinterpret_cast<char*>(&s), sizeof s);
        intact = bool(in) && s == fnv1a(p, size * count);
    });
    if (!intact)
        return refuse("checksum mismatch (damaged file)");
    const auto outOfRange = [&](int32_t id) { return id < 0 || id >= key.nVocab; };
    if (std::any_of(b.argmax.begin(), b.argmax.end(), outOfRange) ||
        std::any_of(b.ids.begin(), b.ids.end(), outOfRange))
        return refuse("token id out of range");
    return b;
}

PositionComparison compareToBase(const BaseLogits& b, int64_t position, std::span<const float> row,
                                 double lseTest, std::vector<double>& scratch)
{
    PositionComparison r;
    const size_t p = size_t(position), vocab = row.size();
    double kl = 0.0;
    switch (b.key.format) {
    case BaseLogitsFormat::Full32: {
        // The same terms in the same order as klDivergence(), so the two agree to the last bit.
        const float* lb = b.logits.data() + p * vocab;
        const double lseB = b.lse[p];
        for (size_t i = 0; i < vocab; ++i) {
            const double logPb = double(lb[i]) - lseB;
            const double logPt = double(row[i]) - lseTest;
            kl += std::exp(logPb) * (logPb - logPt);
        }
        break;
    }
    case BaseLogitsFormat::Full16: {
        // The decoded row renormalised, so the base is a proper distribution again.
        const uint16_t* codes = b.codes.data() + p * vocab;
        const double lo = b.lo[p], step = b.step[p];
        scratch.resize(vocab);
        double mx = lo;
        for (size_t i = 0; i < vocab; ++i) {
            scratch[i] = lo + step * double(codes[i]);
            mx = std::max(mx, scratch[i]);
        }
        double sum = 0.0;
        for (size_t i = 0; i < vocab; ++i)
            sum += std::exp(scratch[i] - mx);
        const double lseB = mx + std::log(sum);
        for (size_t i = 0; i < vocab; ++i) {
            const double logPb = scratch[i] - lseB;
            const double logPt = double(row[i]) - lseTest;
            kl += std::exp(logPb) * (logPb - logPt);
        }
        break;
    }
    case BaseLogitsFormat::TopK: {
        const size_t k = size_t(b.key.topK), off = p * k;
        const double lseB = b.lse[p];
        scratch.assign(vocab, 0.0); // 1 marks a kept token
        for (size_t e = 0; e < k; ++e) {
            const size_t id = size_t(b.ids[off + e]);
            const double logPb = double(b.logits[off + e]) - lseB;
            const double logPt = double(row[id]) - lseTest;
            kl += std::exp(logPb) * (logPb - logPt);
            scratch[id] = 1.0;
        }
        // The other tokens as one outcome, summed directly (see keepRow). The floor keeps a test
        // model that puts (numerically) nothing there at a large finite penalty instead of inf.
        double qRest = 0.0;
        for (size_t i = 0; i < vocab; ++i)
            if (scratch[i] == 0.0)
                qRest += std::exp(double(row[i]) - lseTest);
        const double pRest = b.rest[p];
        if (pRest > 0.0)
            kl += pRest * (std::log(pRest) - std::log(std::max(qRest, std::numeric_limits<double>::min())));
        break;
    }
    }
    r.kld = std::max(0.0, kl);
    size_t top = 0;
    for (size_t i = 1; i < vocab; ++i)
        if (row[i] > row[top])
            top = i;
    r.testArgmax = int32_t(top);
    return r;
}

} // namespace tenfold
