#include "cost/ledger_facts.h"

#include "gguf/gguf_file.h"
#include "model/model.h"
#include "tensor/cpu_features.h"
#include "tensor/kernels.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace tenfold::cost {

std::string dominantWeightType(const Model& model)
{
    const GGUFFile* file = model.gguf();
    if (!file)
        return "";
    std::map<GGMLType, uint64_t> bytes;
    for (const auto& t : file->tensors())
        bytes[t.type] += t.nbytes;
    const auto most = std::max_element(bytes.begin(), bytes.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    return most == bytes.end() ? "" : typeName(most->first);
}

std::string modelHashHex(const Model& model)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(model.fingerprint()));
    return buf;
}

std::string kernelLevelFor(const std::string& deviceTag)
{
    if (deviceTag.rfind("cpu", 0) == 0)
        return cpuLevelKey(cpuKernelLevelInUse());
    return deviceTag.rfind("vulkan", 0) == 0 ? "vulkan" : "";
}

} // namespace tenfold::cost
