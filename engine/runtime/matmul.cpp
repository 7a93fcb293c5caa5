#include "runtime/matmul.h"

#include "core/error.h"
#include "runtime/gemm.h"
#include "runtime/palette_matvec.h"
#include "tensor/cpu_features.h"
#include "tensor/kernels.h"
#include "tensor/repack_q4_0.h"

#include "core/platform.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tenfold {
namespace {

constexpr int kTileRows = 4;          // vecDotTile handles up to 4 x 4
constexpr int kGemmRowBlock = 256;     // activation rows per cache block in the GEMM path
constexpr int kGemmDepth = 128;       // K per micro-kernel call (panel block of 8 KiB)

struct AlignedFloats {
    float* p = nullptr;
    size_t n = 0;
    ~AlignedFloats() { platform::alignedFree(p); }
    float* get(size_t count)
    {
        if (count > n) {
            platform::alignedFree(p);
            p = nullptr;
            n = 0;
            const size_t rounded = (count + 15) & ~size_t(15);
            p = static_cast<float*>(platform::alignedAlloc(64, rounded * sizeof(float)));
            if (!p)
                throw std::bad_alloc();
            n = rounded;
        }
        return p;
    }
};

} // namespace

// Row ranges across several jobs, split into units of `unit` rows per job. Reuses `units` so a
// decode step does not allocate.
void Matmul::splitUnits(std::span<const MatmulJob> jobs, int64_t unit)
{
    std::vector<RowUnit>& units = units_;
    units.clear();
    for (int j = 0; j < int(jobs.size()); ++j)
        for (int64_t r = 0; r < jobs[size_t(j)].w->ne1; r += unit)
            units.push_back({j, r, std::min(jobs[size_t(j)].w->ne1, r + unit)});
}

struct Matmul::ThreadScratch {
    AlignedFloats rows;
    AlignedFloats panel;
};

struct Matmul::RepackedMatrix {
    uint8_t* data = nullptr; // inside a chunk of the cache's RepackArena
    size_t bytes = 0;
    int64_t ne0 = 0, ne1 = 0;
    std::shared_ptr<RepackArena> arena; // keeps the chunk alive
    // For a copy in the original layout (Matmul::streamedCopy): the weight with data pointing to
    // the copy, which the products read in place of the original; data stays null in a repacked one.
    WeightTensor view;
};

// Repacked matrices are carved from 64 MiB huge-page chunks one after another: a block of its own
// per matrix would round each up to 2 MiB (a quarter more memory on a 1.1B model's matrices).
// Stored in the DerivedWeightCache under kRepackArenaKey, beside the matrices.
struct Matmul::RepackArena {
    struct Chunk {
        uint8_t* base = nullptr;
        size_t size = 0, used = 0;
    };
    std::vector<Chunk> chunks;
    ~RepackArena()
    {
        for (Chunk& c : chunks)
            platform::alignedFree(c.base);
    }
    // Called only from the cache's make() for a matrix, under the cache's lock: no lock of its own.
    uint8_t* take(size_t bytes)
    {
        constexpr size_t kChunk = size_t(64) << 20, kAlign = 64;
        bytes = (bytes + kAlign - 1) / kAlign * kAlign;
        for (Chunk& c : chunks)
            if (c.size - c.used >= bytes) {
                uint8_t* p = c.base + c.used;
                c.used += bytes;
                return p;
            }
        Chunk c;
        c.size = std::max(kChunk, bytes);
        c.base = static_cast<uint8_t*>(platform::allocStreamed(c.size));
        if (!c.base)
            throw std::bad_alloc();
        c.used = bytes;
        chunks.push_back(c);
        return c.base;
    }
};

namespace {
const char kRepackArenaKey = 0; // its address names the arena in the DerivedWeightCache
}

size_t Matmul::repackedBytes() const
{
    size_t n = 0;
    for (const auto& [key, m] : repacked_)
        n += m && !m->view.data ? m->bytes : 0;
    return n;
}

size_t Matmul::copiedBytes() const
{
    size_t n = 0;
    for (const auto& [key, m] : repacked_)
        n += m && m->view.data ? m->bytes : 0;
    return n;
}

bool Matmul::repackableShape(const WeightTensor& w)
{
    return (w.type == GGMLType::Q4_0 || w.type == GGMLType::Q8_0) && w.ne1 % 8 == 0 && w.ne0 % 32 == 0 && w.data &&
           kernels(w.type).vecDotRows8 && kernels(w.type).repackRows8 && cpuKernelLevelInUse() != CpuLevel::Scalar;
}

// TENFOLD_Q4_0_REPACK=0 turns repacking off for every type, TENFOLD_Q8_0_REPACK=0 for Q8_0 only
// (A/B benchmarks).
bool Matmul::repackFromEnvironment(GGMLType t)
{
    auto off = [](const char* name) {
        const char* env = std::getenv(name);
        return env && std::strcmp(env, "0") == 0;
    };
    return !off("TENFOLD_Q4_0_REPACK") && !(t == GGMLType::Q8_0 && off("TENFOLD_Q8_0_REPACK"));
}

bool Matmul::takesGemm(const WeightTensor& w, int T)
{
    return T >= gemmMinRows(w.type) && !(repackFromEnvironment(w.type) && repackableShape(w));
}

void Matmul::shareRepacks(std::shared_ptr<DerivedWeightCache> cache,
                          std::function<bool(const uint8_t*, size_t)> cacheable)
{
    cacheable_ = std::move(cacheable);
    repackCache_ = cache ? std::move(cache) : std::make_shared<DerivedWeightCache>();
    repacked_.clear();
}

const Matmul::RepackedMatrix* Matmul::derived(const WeightTensor& w, const uint8_t* key, size_t bytes, FillRef fill)
{
    auto it = repacked_.find(key);
    if (it == repacked_.end()) {
        // Only matrices the cache may hold by address (a miss is the first product with one).
        if (!cacheable(w))
            return nullptr;
        auto arena = std::static_pointer_cast<RepackArena>(repackCache_->getOrMake(
            &kRepackArenaKey, [] { return std::static_pointer_cast<void>(std::make_shared<RepackArena>()); }));
        std::shared_ptr<void> item = repackCache_->getOrMake(key, [&]() -> std::shared_ptr<void> {
            auto m = std::make_shared<RepackedMatrix>();
            m->ne0 = w.ne0;
            m->ne1 = w.ne1;
            m->arena = arena;
            m->bytes = bytes;
            m->data = arena->take(bytes);
            fill(*m);
            return m;
        });
        it = repacked_.emplace(key, std::static_pointer_cast<const RepackedMatrix>(item)).first;
    }
    // The same bytes seen with another shape (never in a model) take the plain path.
    return it->second->ne0 == w.ne0 && it->second->ne1 == w.ne1 ? it->second.get() : nullptr;
}

const uint8_t* Matmul::repacked(ThreadPool& pool, const WeightTensor& w)
{
    if (!repackedKind(w))
        return nullptr;
    const size_t groupBytes = 8 * rowBytes(w.type, w.ne0);
    const RepackedMatrix* m = derived(w, w.data, groupBytes * size_t(w.ne1 / 8), [&](RepackedMatrix& m) {
        const auto repack = kernels(w.type).repackRows8;
        pool.parallelFor(w.ne1 / 8, 1, [&](int64_t g0, int64_t g1, int) {
            repack(w.row(g0 * 8), w.rowBytes, (g1 - g0) * 8, w.ne0, m.data + size_t(g0) * groupBytes);
        });
        // From now on only the repacked copy is read (a forced GEMM path or another reader of the
        // model faults the original back in from the file), so the matrix is not held twice.
        platform::releaseResidentPages(w.data, size_t(w.rowBytes) * size_t(w.ne1));
    });
    return m ? m->data : nullptr;
}

bool Matmul::copyFromEnvironment()
{
    const char* env = std::getenv("TENFOLD_WEIGHT_COPY");
    return !(env && std::strcmp(env, "0") == 0);
}

const WeightTensor* Matmul::streamedCopy(ThreadPool& pool, const WeightTensor& w)
{
    if (!copy_ || !w.data || repackedKind(w))
        return &w;
    // Keyed one byte past the data: the repacked copies use the data's own address.
    const RepackedMatrix* m = derived(w, w.data + 1, w.rowBytes * size_t(w.ne1), [&](RepackedMatrix& m) {
        // Pieces of at most 1 MiB, each released from the file's pages as soon as it is copied,
        // so a large matrix is never resident twice.
        const int64_t pieceRows = std::max<int64_t>(1, int64_t((size_t(1) << 20) / std::max<size_t>(1, w.rowBytes)));
        pool.parallelFor((w.ne1 + pieceRows - 1) / pieceRows, 1, [&](int64_t p0, int64_t p1, int) {
            for (int64_t p = p0; p < p1; ++p) {
                const int64_t r0 = p * pieceRows, r1 = std::min(w.ne1, r0 + pieceRows);
                std::memcpy(m.data + size_t(r0) * w.rowBytes, w.row(r0), size_t(r1 - r0) * w.rowBytes);
                platform::releaseResidentPages(w.row(r0), size_t(r1 - r0) * w.rowBytes);
            }
        });
        m.view = w;
        m.view.data = m.data;
    });
    return m ? &m->view : &w;
}

Matmul::Matmul(int nThreads)
{
    copy_ = copyFromEnvironment() && cpuKernelLevelInUse() != CpuLevel::Scalar;
    repack_ = repackFromEnvironment(GGMLType::Q4_0);
    repackQ8_0_ = repackFromEnvironment(GGMLType::Q8_0);
    repackCache_ = std::make_shared<DerivedWeightCache>();
    // TENFOLD_MATMUL_PATH=gemm|matvec pins the path, for benchmarking one against the other.
    if (const char* env = std::getenv("TENFOLD_MATMUL_PATH")) {
        if (std::strcmp(env, "gemm") == 0)
            forced_ = 1;
        else if (std::strcmp(env, "matvec") == 0)
            forced_ = 0;
    }
    for (int i = 0; i < std::max(1, nThreads); ++i)
        scratch_.push_back(std::make_unique<ThreadScratch>());
}

Matmul::~Matmul() = default;

void Matmul::run(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T,
                 int64_t ldx)
{
    if (jobs.empty() || T <= 0)
        return;
    bool anyFactorised = false;
    for (const MatmulJob& job : jobs)
        anyFactorised = anyFactorised || job.w->factorised() || job.w->palette;
    if (anyFactorised) {
        runFactorised(pool, jobs, x, T, ldx);
        return;
    }
    runDense(pool, jobs, x, T, ldx);
}

// A factorised weight W = A B is two products: t = x B^T [T x r], then y = t A^T. Every B reads
// x, so they run in one call with the dense jobs; each A then reads its own t.
void Matmul::runFactorised(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T, int64_t ldx)
{
    std::vector<MatmulJob> first, palettes;
    size_t tmpFloats = 0;
    for (const MatmulJob& job : jobs)
        if (job.w->factorised())
            tmpFloats += size_t(T) * size_t(job.w->lowRank->rank);
    if (lowRankTmp_.size() < tmpFloats)
        lowRankTmp_.resize(tmpFloats);
    size_t at = 0;
    std::vector<std::pair<const MatmulJob*, float*>> second;
    for (const MatmulJob& job : jobs) {
        if (job.w->palette) {
            palettes.push_back(job);
            continue;
        }
        if (!job.w->factorised()) {
            first.push_back(job);
            continue;
        }
        const LowRankFactors& f = *job.w->lowRank;
        float* t = lowRankTmp_.data() + at;
        at += size_t(T) * size_t(f.rank);
        first.push_back({&f.b, t, f.rank});
        second.push_back({&job, t});
    }
    if (!first.empty())
        runDense(pool, first, x, T, ldx);
    if (!palettes.empty())
        runPalette(pool, palettes, x, T, ldx);
    for (const auto& [job, t] : second) {
        const LowRankFactors& f = *job->w->lowRank;
        const MatmulJob a{&f.a, job->y, job->ldy};
        runDense(pool, std::span<const MatmulJob>(&a, 1), t, T, f.rank);
    }
}

// Palette weights: each row's indices are decoded against its group's table inside the dot
// product (palette_matvec.h), so no dense copy of the matrix is ever made.
void Matmul::runPalette(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T, int64_t ldx)
{
    splitUnits(jobs, 16);
    const std::vector<RowUnit>& units = units_;
    const int64_t K = jobs[0].w->ne0;
    pool.parallelFor(int64_t(units.size()), 1, [&](int64_t u0, int64_t u1, int) {
        for (int64_t u = u0; u < u1; ++u) {
            const RowUnit& ru = units[size_t(u)];
            const MatmulJob& job = jobs[size_t(ru.job)];
            const PaletteWeight& p = *job.w->palette;
            for (int64_t r = ru.row0; r < ru.row1; ++r)
                for (int t = 0; t < T; ++t)
                    job.y[int64_t(t) * job.ldy + r] = paletteRowDot(p, r, x + int64_t(t) * ldx, K);
        }
    });
}

void Matmul::runDense(ThreadPool& pool, std::span<const MatmulJob> original, const float* x, int T, int64_t ldx)
{
    while (int(scratch_.size()) < pool.size())
        scratch_.push_back(std::make_unique<ThreadScratch>());
    // Matrices that are not repacked are read from their huge-page copies (see copiedBytes).
    copiedJobs_.assign(original.begin(), original.end());
    for (MatmulJob& job : copiedJobs_)
        job.w = streamedCopy(pool, *job.w);
    const std::span<const MatmulJob> jobs(copiedJobs_);
    // Dequantizing 16-row panels to F32 once per block of activation rows and running the F32
    // micro-kernel measured faster than the AVX2 tiles for every type once there are a few rows
    // (about 85 vs 45-65 GFLOP/s per core at 256 rows). The AVX-512 VNNI tiles are faster than
    // the GEMM at any size; their types keep them up to 63 rows through gemmMinRows.
    if (forced_ >= 0) {
        if (forced_ == 1)
            runGemm(pool, jobs, x, T, ldx);
        else
            runVecDot(pool, jobs, x, T, ldx);
        return;
    }
    gemmJobs_.clear();
    vecDotJobs_.clear();
    // Repacked Q4_0 matrices stay on their own kernels at every batch size: they unpack each
    // weight block once for 4 activation rows with 8-bit dot products, which measured faster
    // than dequantizing F32 panels for the GEMM (docs/BENCHMARKS.md). A matrix of that kind
    // that may not be cached (not repacked) takes the tiles, which round the activations the
    // same way, so that swapping a buffer into a model changes no result but the weights' own.
    for (const MatmulJob& job : jobs)
        (T >= gemmMinRows(job.w->type) && !repackedKind(*job.w) ? gemmJobs_ : vecDotJobs_).push_back(job);
    if (!gemmJobs_.empty())
        runGemm(pool, gemmJobs_, x, T, ldx);
    if (!vecDotJobs_.empty())
        runVecDot(pool, vecDotJobs_, x, T, ldx);
}

int Matmul::gemmMinRows(GGMLType type)
{
    const int own = kernels(type).gemmMinRows;
    return own > 0 ? own : kGemmMinRows;
}

void Matmul::runVecDot(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T,
                       int64_t ldx)
{
    const int64_t K = jobs[0].w->ne0;
    // Quantize the activations once per distinct vecDotType.
    GGMLType types[4];
    int nTypes = 0;
    jobType_.resize(jobs.size());
    std::vector<int>& jobType = jobType_;
    for (size_t j = 0; j < jobs.size(); ++j) {
        const GGMLType vt = kernels(jobs[j].w->type).vecDotType;
        int idx = 0;
        while (idx < nTypes && types[idx] != vt)
            ++idx;
        if (idx == nTypes) {
            if (nTypes == 4)
                throw UnsupportedError("too many activation types in one matmul");
            types[nTypes++] = vt;
        }
        jobType[j] = idx;
    }
    const void* act[4];
    size_t actStride[4];
    for (int i = 0; i < nTypes; ++i) {
        if (types[i] == GGMLType::F32) {
            act[i] = x;
            actStride[i] = size_t(ldx) * 4;
            continue;
        }
        actStride[i] = rowBytes(types[i], K);
        auto& buf = quantized_[i];
        if (buf.size() < actStride[i] * size_t(T))
            buf.resize(actStride[i] * size_t(T));
        const auto quantize = kernels(types[i]).quantizeRow;
        uint8_t* dst = buf.data();
        const size_t stride = actStride[i];
        if (T == 1 || K * T < 4096) {
            for (int t = 0; t < T; ++t)
                quantize(x + int64_t(t) * ldx, dst + size_t(t) * stride, K);
        } else {
            pool.parallelFor(T, 1, [&](int64_t b, int64_t e, int) {
                for (int64_t t = b; t < e; ++t)
                    quantize(x + t * ldx, dst + size_t(t) * stride, K);
            });
        }
        act[i] = buf.data();
    }
    // Tiles that take F32 activations (F16 weights) get these rows widened back to F32 once
    // here: widening them inside each 4-row tile repeated the work for every 4 weight rows.
    const float* widened[4] = {};
    if (T > 1) {
        for (size_t j = 0; j < jobs.size(); ++j) {
            const int i = jobType[j];
            if (widened[i] || !kernels(jobs[j].w->type).vecDotTileF32Act)
                continue;
            auto& buf = widened_[i];
            if (buf.size() < size_t(K) * size_t(T))
                buf.resize(size_t(K) * size_t(T));
            const auto widen = kernels(types[i]).dequantizeRow;
            const auto* src = static_cast<const uint8_t*>(act[i]);
            for (int t = 0; t < T; ++t)
                widen(src + size_t(t) * actStride[i], buf.data() + size_t(t) * size_t(K), K);
            widened[i] = buf.data();
        }
    }

    // Repacked Q4_0 matrices (one stream per 8 rows, no horizontal sums) where there are any.
    jobRepacked_.assign(jobs.size(), nullptr);
    bool anyRepacked = false;
    for (size_t j = 0; j < jobs.size(); ++j) {
        jobRepacked_[j] = repacked(pool, *jobs[j].w);
        anyRepacked = anyRepacked || jobRepacked_[j];
    }
    const std::vector<const uint8_t*>& jobRepacked = jobRepacked_;

    // Units of 16 rows balance the threads; with many activation rows, where each unit reads all
    // of them, 64-row units of repacked matrices read them a quarter as often (the repacked
    // kernel keeps a unit's weights in L2 and 4 activation rows in L1). In decode, too, repacked
    // matrices take 64-row units where that leaves at least 4 per thread: each call prepares the
    // activation's per-block sums and scales (Rows8Terms), which 16-row units repeated 4 times as
    // often (13% of a TinyLlama Q4_0 decode on one thread, before that step was vectorised).
    int64_t totalRows = 0;
    for (const MatmulJob& job : jobs)
        totalRows += job.w->ne1;
    const bool bigUnits = anyRepacked && (T >= 8 || totalRows / 64 >= 4 * int64_t(pool.size()));
    splitUnits(jobs, bigUnits ? 64 : 16);
    const std::vector<RowUnit>& units = units_;
    pool.parallelFor(int64_t(units.size()), 1, [&](int64_t u0, int64_t u1, int) {
        for (int64_t u = u0; u < u1; ++u) {
            const RowUnit& ru = units[size_t(u)];
            const MatmulJob& job = jobs[size_t(ru.job)];
            const WeightTensor& w = *job.w;
            const TypeKernels& k = kernels(w.type);
            const uint8_t* a = static_cast<const uint8_t*>(act[jobType[size_t(ru.job)]]);
            const size_t aStride = actStride[jobType[size_t(ru.job)]];
            if (const uint8_t* w8 = jobRepacked[size_t(ru.job)]) {
                // Units are 16 or 64 rows, so a unit is whole 8-row groups (ne1 % 8 == 0).
                k.vecDotRows8(K, w8 + size_t(ru.row0 / 8) * 8 * rowBytes(w.type, K), int((ru.row1 - ru.row0) / 8), a,
                              aStride, T, job.y + ru.row0, size_t(job.ldy));
                continue;
            }
            if (T == 1 && k.vecDotRows) {
                // Decode: the rows kernel prepares the activation once for the unit's rows.
                k.vecDotRows(K, w.row(ru.row0), w.rowBytes, int(ru.row1 - ru.row0), a, job.y + ru.row0);
                continue;
            }
            if (const float* aw = widened[jobType[size_t(ru.job)]]; aw && k.vecDotTileF32Act) {
                for (int64_t r = ru.row0; r < ru.row1; r += kTileRows) {
                    const int nr = int(std::min<int64_t>(kTileRows, ru.row1 - r));
                    for (int t = 0; t < T; t += kF32ActTileCols)
                        k.vecDotTileF32Act(K, w.row(r), w.rowBytes, nr, aw + size_t(t) * size_t(K),
                                           size_t(K) * sizeof(float), std::min(kF32ActTileCols, T - t),
                                           job.y + int64_t(t) * job.ldy + r, size_t(job.ldy));
                }
                continue;
            }
            for (int64_t r = ru.row0; r < ru.row1; r += kTileRows) {
                const int nr = int(std::min<int64_t>(kTileRows, ru.row1 - r));
                for (int t = 0; t < T; t += kTileRows) {
                    const int nc = std::min(kTileRows, T - t);
                    // A single activation row streams the weights once either way, and the
                    // plain dot is the faster loop for it.
                    if (k.vecDotTile && nc > 1) {
                        k.vecDotTile(K, w.row(r), w.rowBytes, nr, a + size_t(t) * aStride, aStride,
                                     nc, job.y + int64_t(t) * job.ldy + r, size_t(job.ldy));
                    } else {
                        for (int c = 0; c < nc; ++c)
                            for (int rr = 0; rr < nr; ++rr)
                                job.y[int64_t(t + c) * job.ldy + r + rr] =
                                    k.vecDot(K, w.row(r + rr), a + size_t(t + c) * aStride);
                    }
                }
            }
        }
    });
}

void Matmul::runGemm(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T,
                     int64_t ldx)
{
    const int K = int(jobs[0].w->ne0);
    const gemm::Kernel kernel = gemm::bestKernel();
    // A unit of up to 4 panels: each block of activation rows, once in L2, meets all of them
    // before the next block comes in (one panel per unit streamed the whole activation matrix
    // from L3 once per panel). Fewer panels per unit where that would leave under 4 units per
    // thread (ref-main's 384 rows), so the threads stay evenly loaded.
    int64_t panels = 0;
    for (const MatmulJob& job : jobs)
        panels += (job.w->ne1 + kernel.nr - 1) / kernel.nr;
    const int panelsPerUnit = int(std::clamp<int64_t>(panels / (4 * int64_t(pool.size())), 1, 4));
    const int unitRows = panelsPerUnit * kernel.nr;
    splitUnits(jobs, unitRows);
    // The dequantized rows sit 64 bytes further apart than K floats: at K = 2048 (a 1.1B model)
    // rows 8 KiB apart all map to the same L1 set, and packing a panel, which reads one float
    // from each of kernel.nr rows in turn, then missed L1 on every read.
    const int64_t ldr = K + 16;
    const size_t panelFloats = size_t(kernel.nr) * size_t(K);
    const std::vector<RowUnit>& units = units_;
    // Allocate every slot's scratch here, on the calling thread, so that a failed allocation
    // surfaces before the parallel region starts.
    for (int slot = 0; slot < pool.size(); ++slot) {
        scratch_[size_t(slot)]->rows.get(size_t(unitRows) * size_t(ldr));
        scratch_[size_t(slot)]->panel.get(size_t(panelsPerUnit) * panelFloats);
    }
    // Blocks of K keep a packed panel block (kGemmDepth x kernel.nr floats) and the activation
    // rows it meets in L1. The weight rows are the outer loop so each is dequantized and packed
    // exactly once per matmul; the unit's packed panels stay in L2 while every block of
    // activation rows passes over them.
    pool.parallelFor(int64_t(units.size()), 1, [&](int64_t u0, int64_t u1, int thread) {
        ThreadScratch& s = *scratch_[size_t(thread)];
        float* rows = s.rows.get(size_t(unitRows) * size_t(ldr));
        float* panel = s.panel.get(size_t(panelsPerUnit) * panelFloats);
        for (int64_t u = u0; u < u1; ++u) {
            const RowUnit& ru = units[size_t(u)];
            const MatmulJob& job = jobs[size_t(ru.job)];
            const WeightTensor& w = *job.w;
            const int nrows = int(ru.row1 - ru.row0);
            const int np = (nrows + kernel.nr - 1) / kernel.nr;
            const auto dequantize = kernels(w.type).dequantizeRow;
            for (int r = 0; r < nrows; ++r)
                dequantize(w.row(ru.row0 + r), rows + int64_t(r) * ldr, K);
            for (int p = 0; p < np; ++p) {
                const int nr = std::min(kernel.nr, nrows - p * kernel.nr);
                for (int k0 = 0; k0 < K; k0 += kGemmDepth) {
                    const int kc = std::min(kGemmDepth, K - k0);
                    gemm::packPanel(rows + int64_t(p) * kernel.nr * ldr + k0, nr, ldr, kc,
                                    panel + size_t(p) * panelFloats + size_t(k0) * size_t(kernel.nr), kernel.nr);
                }
            }
            for (int t0 = 0; t0 < T; t0 += kGemmRowBlock) {
                const int t1 = std::min(T, t0 + kGemmRowBlock);
                for (int k0 = 0; k0 < K; k0 += kGemmDepth) {
                    const int kc = std::min(kGemmDepth, K - k0);
                    for (int p = 0; p < np; ++p) {
                        const int nr = std::min(kernel.nr, nrows - p * kernel.nr);
                        const float* pk = panel + size_t(p) * panelFloats + size_t(k0) * size_t(kernel.nr);
                        float* y = job.y + ru.row0 + int64_t(p) * kernel.nr;
                        for (int t = t0; t < t1; t += kernel.mr) {
                            const int mr = std::min(kernel.mr, t1 - t);
                            kernel.fn(x + int64_t(t) * ldx + k0, ldx, mr, pk, kc, y + int64_t(t) * job.ldy,
                                      job.ldy, nr, k0 > 0);
                        }
                    }
                }
            }
        }
    });
}

} // namespace tenfold
