#version 450
// Appends keys and values of nTokens tokens to the F16 cache at positions pos0.. (two halves
// packed per 32-bit word). Cache layout per layer: [nCtx][kvDim] halves.
// With flags & 1 the keys are rotated (RoPE, as rope.comp; flags & 2 = NeoX) on the way in, so
// key rotation, query rotation (rope.comp) and the append all run between the same two barriers.
// PAGED (batches of many sequences, runtime/kv_blocks.h): the cache is a pool of blocks of
// blockSize positions; row t goes to position rows[t] of its sequence, i.e. to slot
// table[t][pos / blockSize] * blockSize + pos % blockSize, with rows = [positions: tableOffset
// words][block tables: maxBlocks words per row].
// Dispatch: ceil(nTokens * kvDim/2 / WG). Bindings: 0 k, 1 v, 2 kCache, 3 vCache, 4 params
// (PAGED: rows).
#include "common.glsl"

layout(std430, binding = 0) readonly buffer K { float k[]; };
layout(std430, binding = 1) readonly buffer V { float v[]; };
layout(std430, binding = 2) writeonly buffer KC { uint kc[]; };
layout(std430, binding = 3) writeonly buffer VC { uint vc[]; };
#ifdef PAGED
layout(std430, binding = 4) readonly buffer Rows { uint rows[]; };
layout(push_constant) uniform Push {
    uint nTokens; uint kvDim; uint layerWordOffset; uint headDim; float freqBase; float freqScale; uint flags;
    uint blockSize; uint maxBlocks; uint tableOffset;
} pc;
#else
layout(std430, binding = 4) readonly buffer Params { uint pos0; } params;
layout(push_constant) uniform Push {
    uint nTokens; uint kvDim; uint layerWordOffset; uint headDim; float freqBase; float freqScale; uint flags;
} pc;
#endif

// Element e of token t's key row after rotation by position pos.
float rotatedKey(uint rowBase, uint e, float pos)
{
    const uint d = e % pc.headDim, headBase = rowBase + e - d, half_ = pc.headDim / 2u;
    const bool neox = (pc.flags & 2u) != 0u;
    const uint i = neox ? d % half_ : d / 2u;               // pair index
    const bool first = neox ? d < half_ : (d & 1u) == 0u;    // first element of its pair
    const uint a = neox ? i : 2u * i, b = neox ? i + half_ : 2u * i + 1u;
    const float theta = pos * pc.freqScale * pow(pc.freqBase, -2.0 * float(i) / float(pc.headDim));
    const float x0 = k[headBase + a], x1 = k[headBase + b];
    return first ? x0 * cos(theta) - x1 * sin(theta) : x0 * sin(theta) + x1 * cos(theta);
}

void main()
{
    const uint pairs = pc.kvDim / 2u;
    const uint g = gl_GlobalInvocationID.x;
    if (g >= pc.nTokens * pairs)
        return;
    const uint t = g / pairs, p = g % pairs;
    const uint src = t * pc.kvDim + 2u * p;
#ifdef PAGED
    const uint position = rows[t];
    const uint slot = rows[pc.tableOffset + t * pc.maxBlocks + position / pc.blockSize] * pc.blockSize +
                      position % pc.blockSize;
#else
    const uint position = params.pos0 + t, slot = position;
#endif
    const uint dst = pc.layerWordOffset + slot * pairs + p;
    vec2 key = vec2(k[src], k[src + 1u]);
    if ((pc.flags & 1u) != 0u) {
        const float pos = float(position);
        key = vec2(rotatedKey(t * pc.kvDim, 2u * p, pos), rotatedKey(t * pc.kvDim, 2u * p + 1u, pos));
    }
    kc[dst] = packHalf2x16(key);
    vc[dst] = packHalf2x16(vec2(v[src], v[src + 1u]));
}
