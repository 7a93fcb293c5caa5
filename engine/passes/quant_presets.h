#pragma once
// The quantization presets people know from the reference engine (Q2_K, Q3_K_S/M/L, Q4_K_S/M,
// Q5_K_S/M, Q6_K, Q8_0): a base type plus per-tensor rules that give the tensors most sensitive
// to rounding more bits. The rules follow llama-quantize (build b4748) for dense Llama-family
// models, and tests/engine/passes/tst_quant_presets holds every tensor's type and bytes to that
// tool's output:
//  - the output projection (output.weight, or token_embd.weight when the model ties them) gets
//    Q6_K, or Q8_0 when its rows are not a multiple of 256 or the preset is Q8_0;
//  - attn_v: Q2_K -> Q4_K when the model has 4 or more query heads per key head, else Q3_K;
//    Q3_K_M -> Q5_K for the first two layers, Q4_K after; Q3_K_L -> Q5_K; Q4_K_M and Q5_K_M ->
//    Q6_K on the "more bits" layers (the first and last eighth, and every third in between);
//    Q4_K_S -> Q5_K for the first four layers;
//  - ffn_down: Q2_K -> Q3_K; Q3_K_M -> Q5_K for the first sixteenth, Q4_K after; Q3_K_L -> Q5_K;
//    Q4_K_M and Q5_K_M -> Q6_K on the "more bits" layers; Q4_K_S -> Q5_K for the first eighth;
//  - attn_output: Q2_K -> Q3_K, Q3_K_M -> Q4_K, Q3_K_L -> Q5_K.
// The block-size fallback of chooseTensorType applies afterwards (ref-main's 384-wide rows turn
// most K-quants into 32-block types, as in the reference's files). The reference's rules for
// mixture-of-experts, Falcon and 70B models do not apply to the models Tenfold runs and are left
// out.
#include "tensor/ggml_type.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace tenfold {

class GGUFFile;

struct QuantPreset {
    const char* name;  // as llama-quantize spells it
    GGMLType base;     // the type of every tensor no rule names
    uint32_t fileType; // general.file_type (llama_ftype numbering)
};

std::span<const QuantPreset> quantPresets();
const QuantPreset* findQuantPreset(std::string_view name); // case-insensitive; nullptr if none

// The type each 2-D tensor of `model` gets under the preset, before the block-size fallback
// (QuantizeOptions::tensorTypes takes it as is). Throws FormatError when the file lacks the
// block and head counts the rules need.
std::map<std::string, GGMLType> presetTensorTypes(const QuantPreset& preset, const GGUFFile& model);

} // namespace tenfold
