#include "runtime/backend_registry.h"

#include "core/error.h"

#include <algorithm>

namespace tenfold {

void BackendRegistry::add(std::shared_ptr<const AcceleratorBackendFactory> factory)
{
    if (!factory)
        throw InvalidArgument("BackendRegistry::add: null factory");
    const std::string kind = factory->kind();
    auto same = [&](const auto& f) { return f->kind() == kind; };
    factories_.erase(std::remove_if(factories_.begin(), factories_.end(), same), factories_.end());
    factories_.push_back(std::move(factory));
}

const AcceleratorBackendFactory* BackendRegistry::find(std::string_view kind) const
{
    for (const auto& f : factories_)
        if (f->kind() == kind)
            return f.get();
    return nullptr;
}

} // namespace tenfold
