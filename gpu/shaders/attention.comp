#version 450
// Fused causal attention over the F16 KV cache, flash-attention style: keys are visited in
// chunks of WG positions with an online softmax (running max m, running sum l), so the score
// row is never stored and any context length fits. GQA: query head h reads KV head
// h / (nHead / nHeadKv). Query token t sits at position pos0 + t and sees positions 0..pos0+t.
// PAGED (batches of many sequences): query row t sits at position rows[t] of its own sequence,
// whose position p lives in cache slot table[t][p / blockSize] * blockSize + p % blockSize (see
// kv_append.comp for the rows buffer).
// Dispatch: (nHead, nTokens). Bindings: 0 q [nTokens][nHead*headDim], 1 kCache, 2 vCache,
// 3 out [nTokens][nHead*headDim], 4 params (PAGED: rows). headDim <= 256.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer KC { uint kc[]; };
layout(std430, binding = 2) readonly buffer VC { uint vc[]; };
layout(std430, binding = 3) writeonly buffer O { float outv[]; };
#ifdef PAGED
layout(std430, binding = 4) readonly buffer Rows { uint rows[]; };
layout(push_constant) uniform Push {
    uint nHead; uint nHeadKv; uint headDim; uint kvDim; uint layerWordOffset; float scale;
    uint blockSize; uint maxBlocks; uint tableOffset;
} pc;
shared uint slotSh[256];
#else
layout(std430, binding = 4) readonly buffer Params { uint pos0; } params;
layout(push_constant) uniform Push {
    uint nHead; uint nHeadKv; uint headDim; uint kvDim; uint layerWordOffset; float scale;
} pc;
#endif

shared float qSh[256];
shared float pSh[256];

float cacheHalf(uint wordIndex, uint odd, bool isK)
{
    vec2 v = unpackHalf2x16(isK ? kc[wordIndex] : vc[wordIndex]);
    return odd != 0u ? v.y : v.x;
}

void main()
{
    const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
    const uint kvh = h / (pc.nHead / pc.nHeadKv);
#ifdef PAGED
    const uint nKv = rows[t] + 1u;
    const uint tableBase = pc.tableOffset + t * pc.maxBlocks;
#else
    const uint nKv = params.pos0 + t + 1u;
#endif
    const uint qBase = t * pc.nHead * pc.headDim + h * pc.headDim;
    for (uint d = tid; d < pc.headDim; d += WG_SIZE)
        qSh[d] = q[qBase + d] * pc.scale;
    barrier();

    const uint perThread = (pc.headDim + WG_SIZE - 1u) / WG_SIZE; // <= 256 / WG_SIZE
    float acc[8] = float[8](0, 0, 0, 0, 0, 0, 0, 0);
    float m = -1.0e30, l = 0.0;
    const uint headHalfOff = (kvh * pc.headDim) / 2u;
    const uint rowWords = pc.kvDim / 2u;

    for (uint base = 0u; base < nKv; base += WG_SIZE) {
        const uint p = base + tid;
#ifdef PAGED
        // This chunk's cache slots, shared by the score and the value loops.
        slotSh[tid] = p < nKv ? rows[tableBase + p / pc.blockSize] * pc.blockSize + p % pc.blockSize : 0u;
        barrier();
        const uint slot = slotSh[tid];
#else
        const uint slot = p;
#endif
        float s = -1.0e30;
        if (p < nKv) {
            const uint kw = pc.layerWordOffset + slot * rowWords + headHalfOff;
            float dot = 0.0;
            for (uint d = 0u; d < pc.headDim; d += 2u) {
                vec2 kv = unpackHalf2x16(kc[kw + d / 2u]);
                dot += qSh[d] * kv.x + qSh[d + 1u] * kv.y;
            }
            s = dot;
        }
        const float mNew = max(m, wgMax(s));
        const float e = p < nKv ? exp(s - mNew) : 0.0;
        pSh[tid] = e;
        const float chunkSum = wgSum(e); // its barriers also publish pSh
        const float corr = exp(m - mNew);
        l = l * corr + chunkSum;
        const uint count = min(WG_SIZE, nKv - base);
        for (uint j = 0u; j < perThread; ++j) {
            const uint d = tid + j * WG_SIZE;
            float a = acc[j] * corr;
            if (d < pc.headDim) {
#ifdef PAGED
                const uint vw = pc.layerWordOffset + headHalfOff + d / 2u;
                for (uint c = 0u; c < count; ++c)
                    a += pSh[c] * cacheHalf(vw + slotSh[c] * rowWords, d & 1u, false);
#else
                const uint vw = pc.layerWordOffset + base * rowWords + headHalfOff + d / 2u;
                for (uint c = 0u; c < count; ++c)
                    a += pSh[c] * cacheHalf(vw + c * rowWords, d & 1u, false);
#endif
            }
            acc[j] = a;
        }
        m = mNew;
        barrier(); // pSh is rewritten by the next chunk
    }
    const float inv = 1.0 / l;
    for (uint j = 0u; j < perThread; ++j) {
        const uint d = tid + j * WG_SIZE;
        if (d < pc.headDim)
            outv[qBase + d] = acc[j] * inv;
    }
}
