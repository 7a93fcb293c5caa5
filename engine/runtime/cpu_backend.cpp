#include "runtime/cpu_backend.h"

#include "runtime/cpu_batched_context.h"
#include "runtime/cpu_context.h"
#include "runtime/thread_pool.h"
#include "tensor/kernels.h"

namespace tenfold {
namespace {

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int nThreads)
        : nThreads_(nThreads > 0 ? nThreads : ThreadPool::hardwareThreads()),
          memory_(std::make_shared<std::atomic<uint64_t>>(0))
    {
    }

    std::string name() const override
    {
        return std::string("CPU (") + cpuKernelLevel() + ", " + std::to_string(nThreads_) +
               (nThreads_ == 1 ? " thread)" : " threads)");
    }

    std::unique_ptr<InferenceContext> createContext(std::shared_ptr<const Model> model,
                                                    const ContextParams& params) override
    {
        // Weights stay in the model's memory mapping: nothing to upload.
        return std::make_unique<CpuContext>(std::move(model), params, nThreads_, memory_);
    }

    std::unique_ptr<BatchedContext> createBatchedContext(std::shared_ptr<const Model> model,
                                                         const BatchedParams& params) override
    {
        return std::make_unique<CpuBatchedContext>(std::move(model), params, nThreads_, memory_);
    }

    uint64_t memoryInUse() const override { return memory_->load(); }

private:
    int nThreads_;
    std::shared_ptr<std::atomic<uint64_t>> memory_;
};

} // namespace

std::unique_ptr<Backend> createCpuBackend(int nThreads)
{
    return std::make_unique<CpuBackend>(nThreads);
}

} // namespace tenfold
