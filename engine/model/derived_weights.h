#pragma once
// Copies of a model's weights in another layout that a runtime makes for its kernels (the CPU's
// 8-row repacked Q4_0, runtime/matmul.cpp), kept with the model so that every context on it
// shares one copy instead of making its own. Thread-safe: contexts on several threads may ask at
// once; a copy is made once, by the first caller, while the others wait for it.
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tenfold {

class DerivedWeightCache {
public:
    // The item stored under key, or the one make() returns, stored for later callers. make() runs
    // under the cache's lock, so it must not ask this cache for anything. If it throws, nothing
    // is stored and the exception reaches the caller.
    std::shared_ptr<void> getOrMake(const void* key, const std::function<std::shared_ptr<void>()>& make)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = items_.find(key);
        if (it != items_.end())
            return it->second;
        std::shared_ptr<void> item = make();
        items_.emplace(key, item);
        return item;
    }
    size_t size() const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return items_.size();
    }

private:
    mutable std::mutex mutex_;
    std::unordered_map<const void*, std::shared_ptr<void>> items_;
};

} // namespace tenfold
