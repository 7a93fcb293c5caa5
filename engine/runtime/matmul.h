#pragma once
// Y = X W^T for the CPU backend on weights of any type, without dequantizing whole matrices.
// Mat-vec path: each activation row is quantized once into the weight's vecDotType and the weight
// rows are split across threads; 4x4 tiles (vecDotTile) reuse each loaded weight block across
// activation rows. GEMM path, for many rows (prompt processing): each thread dequantizes 16-row
// panels of its weight rows and runs the F32 micro-kernel over blocks of activation rows.
#include "model/model.h"
#include "runtime/thread_pool.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace tenfold {

struct MatmulJob {
    const WeightTensor* w = nullptr; // [ne1 rows of ne0]
    float* y = nullptr;              // [T, w->ne1], row stride ldy
    int64_t ldy = 0;
};

class Matmul {
public:
    explicit Matmul(int nThreads);
    ~Matmul();
    // Fewer activation rows than this take the quantized mat-vec path, unless the weight type's
    // kernels name their own threshold (TypeKernels::gemmMinRows).
    static constexpr int kGemmMinRows = 32;
    // The threshold for one weight type at the kernel level in use.
    static int gemmMinRows(GGMLType type);
    // Whether T activation rows against w take the F32 GEMM (no rounding of the activations)
    // rather than the quantized kernels, in a Matmul with the default settings.
    static bool takesGemm(const WeightTensor& w, int T);

    // All jobs read the same x [T, K] (row stride ldx); K == every job's w->ne0. A factorised
    // weight (WeightTensor::lowRank) runs as its two factors' products.
    void run(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T,
             int64_t ldx);
    // Forces one path (tests compare them); -1 = automatic.
    void forcePath(int gemm) { forced_ = gemm; }
    // Bytes held by repacked Q4_0 and Q8_0 matrices (tensor/repack_q4_0.h, repack_q8_0.h): the
    // first call that meets such a matrix of 8k rows, at a SIMD kernel level, copies it once into
    // 8-row groups, and every later product with it (decode and prompts; not a forced GEMM path)
    // reads only that copy. TENFOLD_Q4_0_REPACK=0 turns it off, TENFOLD_Q8_0_REPACK=0 for Q8_0
    // only (benchmarks compare both).
    size_t repackedBytes() const;
    // Bytes held by copies of the other matrices, in their own layout: the first product with a
    // matrix that is not repacked, at a SIMD kernel level, copies it once into transparent huge
    // pages and releases the file's pages, and every later product reads the copy. A memory-mapped
    // file sits in 4 KiB pages, at whose boundaries the hardware prefetchers stop and each of
    // which costs a TLB entry; decode streams every matrix once per token, so it reads the copy
    // faster (docs/BENCHMARKS.md). TENFOLD_WEIGHT_COPY=0 turns it off.
    size_t copiedBytes() const;
    // Where repacked copies are kept: the model's cache (Model::derivedWeights()), so that every
    // context on a model shares one copy; without it a Matmul keeps its own.
    // `cacheable` says which matrices may be cached by address (Model::holdsWeightBytes); without
    // it, every matrix may be, and the caller keeps each weight's bytes unchanged while this
    // Matmul or the cache lives.
    void shareRepacks(std::shared_ptr<DerivedWeightCache> cache,
                      std::function<bool(const uint8_t*, size_t)> cacheable = {});

private:
    void runDense(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T, int64_t ldx);
    void runPalette(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T, int64_t ldx);
    void runFactorised(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T, int64_t ldx);
    void runVecDot(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T,
                   int64_t ldx);
    void runGemm(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int T,
                 int64_t ldx);

    struct RowUnit {
        int job;
        int64_t row0, row1;
    };
    void splitUnits(std::span<const MatmulJob> jobs, int64_t unit);

    struct ThreadScratch;
    struct RepackedMatrix;
    std::vector<RowUnit> units_;
    std::vector<int> jobType_;
    std::vector<std::unique_ptr<ThreadScratch>> scratch_;
    std::vector<uint8_t> quantized_[4]; // activation rows per distinct vecDotType in a call
    std::vector<float> widened_[4];     // the same rows back in F32, for vecDotTileF32Act
    std::vector<MatmulJob> gemmJobs_, vecDotJobs_; // a call's jobs split by path
    int forced_ = -1;
    std::vector<float> lowRankTmp_; // x B^T of a call's factorised weights
    // The repacked copy of a Q4_0 or Q8_0 matrix, keyed by its data; null when it is not repacked.
    const uint8_t* repacked(ThreadPool& pool, const WeightTensor& w);
    // w itself, or its huge-page copy (kept in the same cache as the repacked matrices).
    const WeightTensor* streamedCopy(ThreadPool& pool, const WeightTensor& w);
    // A callable passed down without being copied: every product looks its matrix up, and a
    // std::function made from a lambda with more than two captures would allocate each time.
    // Valid only during the call it is passed to.
    class FillRef {
    public:
        template <class F>
        FillRef(F&& f) // NOLINT: made from the caller's lambda on purpose
            : obj_(static_cast<void*>(std::addressof(f))),
              call_([](void* o, RepackedMatrix& m) { (*static_cast<std::remove_reference_t<F>*>(o))(m); })
        {
        }
        void operator()(RepackedMatrix& m) const { call_(obj_, m); }

    private:
        void* obj_;
        void (*call_)(void*, RepackedMatrix&);
    };
    // The derived matrix cached under key (this Matmul's view first, then the shared cache, where
    // fill makes it in `bytes` of the arena the first time), null when w may not be cached or
    // its shape differs from the cached one.
    const RepackedMatrix* derived(const WeightTensor& w, const uint8_t* key, size_t bytes, FillRef fill);
    static bool copyFromEnvironment();
    std::vector<MatmulJob> copiedJobs_; // a runDense call's jobs with their weights' copies
    bool copy_ = true;
    bool cacheable(const WeightTensor& w) const
    {
        return !cacheable_ || cacheable_(w.data, w.rowBytes * size_t(w.ne1));
    }
    std::function<bool(const uint8_t*, size_t)> cacheable_;
    // Type, shape, level and settings call for repacking (whether or not it may be cached).
    bool repackedKind(const WeightTensor& w) const
    {
        return repack_ && repackableShape(w) && (w.type != GGMLType::Q8_0 || repackQ8_0_);
    }
    static bool repackableShape(const WeightTensor& w); // type, shape and kernel level allow it
    static bool repackFromEnvironment(GGMLType t);
    struct RepackArena;
    std::shared_ptr<DerivedWeightCache> repackCache_; // holds the matrices and their arena
    // This Matmul's view of the cache, looked up without its lock.
    std::unordered_map<const uint8_t*, std::shared_ptr<const RepackedMatrix>> repacked_;
    std::vector<const uint8_t*> jobRepacked_;
    bool repack_ = true;
    bool repackQ8_0_ = true;
};

} // namespace tenfold
