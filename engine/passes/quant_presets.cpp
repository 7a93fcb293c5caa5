#include "passes/quant_presets.h"

#include "core/error.h"
#include "gguf/gguf_file.h"

#include <algorithm>
#include <cctype>

namespace tenfold {
namespace {

constexpr QuantPreset kPresets[] = {
    {"Q2_K", GGMLType::Q2_K, 10},   {"Q3_K_S", GGMLType::Q3_K, 11}, {"Q3_K_M", GGMLType::Q3_K, 12},
    {"Q3_K_L", GGMLType::Q3_K, 13}, {"Q4_K_S", GGMLType::Q4_K, 14}, {"Q4_K_M", GGMLType::Q4_K, 15},
    {"Q5_K_S", GGMLType::Q5_K, 16}, {"Q5_K_M", GGMLType::Q5_K, 17}, {"Q6_K", GGMLType::Q6_K, 18},
    {"Q8_0", GGMLType::Q8_0, 7},
};

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The reference's "use more bits" layers: the first and last eighth, and every third between.
bool moreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

int64_t requireInt(const GGUFFile& f, const std::string& key)
{
    const auto v = f.getInt(key);
    if (!v || *v <= 0)
        throw FormatError(f.label(), f.metadataOffset(key),
                          "metadata key '" + key + "' (needed by the quantization preset rules) is missing or not positive");
    return *v;
}

} // namespace

std::span<const QuantPreset> quantPresets() { return kPresets; }

const QuantPreset* findQuantPreset(std::string_view name)
{
    for (const QuantPreset& p : kPresets) {
        const std::string_view n = p.name;
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                return std::toupper(static_cast<unsigned char>(a)) == std::toupper(static_cast<unsigned char>(b));
            }))
            return &p;
    }
    return nullptr;
}

std::map<std::string, GGMLType> presetTensorTypes(const QuantPreset& preset, const GGUFFile& model)
{
    const auto arch = model.getString("general.architecture");
    if (!arch)
        throw FormatError(model.label(), 0, "metadata key 'general.architecture' is missing");
    const int nLayer = int(requireInt(model, *arch + ".block_count"));
    const int64_t nHead = requireInt(model, *arch + ".attention.head_count");
    const int64_t nHeadKv = model.getInt(*arch + ".attention.head_count_kv").value_or(nHead);
    const int64_t gqa = nHeadKv > 0 ? nHead / nHeadKv : 1;
    const bool hasOutput = model.findTensor("output.weight") != nullptr;
    const std::string p = preset.name;

    int nAttnV = 0;
    for (const GGUFTensorInfo& t : model.tensors())
        nAttnV += contains(t.name, "attn_v.weight");

    std::map<std::string, GGMLType> types;
    int iAttnV = 0, iFfnDown = 0; // in file order, as the reference counts them
    for (const GGUFTensorInfo& t : model.tensors()) {
        if (t.ne.size() < 2)
            continue; // norms stay F32
        const std::string& name = t.name;
        GGMLType type = preset.base;
        if (name == "output.weight" || (!hasOutput && name == "token_embd.weight")) {
            if (t.ne[0] % 256 != 0)
                type = GGMLType::Q8_0;
            else if (type != GGMLType::Q8_0)
                type = GGMLType::Q6_K;
        } else if (contains(name, "attn_v.weight")) {
            if (p == "Q2_K")
                type = gqa >= 4 ? GGMLType::Q4_K : GGMLType::Q3_K;
            else if (p == "Q3_K_M")
                type = iAttnV < 2 ? GGMLType::Q5_K : GGMLType::Q4_K;
            else if (p == "Q3_K_L")
                type = GGMLType::Q5_K;
            else if ((p == "Q4_K_M" || p == "Q5_K_M") && moreBits(iAttnV, nAttnV))
                type = GGMLType::Q6_K;
            else if (p == "Q4_K_S" && iAttnV < 4)
                type = GGMLType::Q5_K;
            ++iAttnV;
        } else if (contains(name, "ffn_down")) {
            const int i = iFfnDown, n = nLayer;
            if (p == "Q2_K")
                type = GGMLType::Q3_K;
            else if (p == "Q3_K_M")
                type = i < n / 16 ? GGMLType::Q5_K : GGMLType::Q4_K;
            else if (p == "Q3_K_L")
                type = GGMLType::Q5_K;
            else if ((p == "Q4_K_M" || p == "Q5_K_M") && moreBits(i, n))
                type = GGMLType::Q6_K;
            else if (p == "Q4_K_S" && i < n / 8)
                type = GGMLType::Q5_K;
            ++iFfnDown;
        } else if (contains(name, "attn_output.weight")) {
            if (p == "Q2_K")
                type = GGMLType::Q3_K;
            else if (p == "Q3_K_M")
                type = GGMLType::Q4_K;
            else if (p == "Q3_K_L")
                type = GGMLType::Q5_K;
        }
        types[name] = type;
    }
    return types;
}

} // namespace tenfold
