#version 450
// Mat-vec for decode (few tokens): y[t][r] = sum_i W[r][i] * x[t][i] (+ bias[r]) (+ y[t][r]).
// Weights dequantized in-shader from their GGUF blocks. With subgroups each subgroup computes
// whole rows (ROWS_PER_WG rows per work group); without, one work group per row.
// Dispatch: (ceil(M / rowsPerGroup), N tokens). Bindings: 0 W, 1 x, 2 y, 3 bias (F32), 4 aux (F32).
// flags: 1 = accumulate into y (fused residual add), 2 = add bias,
//        4 = RMS-normalize each x row first, aux = norm weight (fused RMSNorm: saves a dispatch
//            and a barrier per norm in decode, where the pass is latency-bound),
//        8 = x := silu(x) * aux, aux laid out like x (fused SwiGLU before the down projection).
#include "common.glsl"
#define WEIGHT_BINDING 0
#include "dequant.glsl"

layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(std430, binding = 3) readonly buffer B { float bias[]; };
layout(std430, binding = 4) readonly buffer A { float aux[]; };
layout(push_constant) uniform Push {
    uint K; uint M; uint rowBytes; uint xOffset; uint xStride; uint yOffset; uint yStride; uint flags; float eps;
} pc;

// Input element i of the row at xb, after the fused transform the flags ask for.
float inputAt(uint xb, uint i, float normScale)
{
    const float v = x[xb + i];
    if ((pc.flags & 4u) != 0u)
        return v * normScale * aux[i];
    if ((pc.flags & 8u) != 0u)
        return v / (1.0 + exp(-v)) * aux[xb + i];
    return v;
}

#ifdef USE_SUBGROUP
// Each subgroup owns whole rows, so a row's sum needs only subgroupAdd: no shared memory and no
// work-group barriers. ROWS_PER_WG is the host's guess of WG / subgroup size; the loop stays
// correct when the driver picks another subgroup size.
layout(constant_id = 1) const uint ROWS_PER_WG = 4;

float rowDot(uint r, uint xb, float scale)
{
    const uint lane = gl_SubgroupInvocationID, lanes = gl_SubgroupSize;
    const uint rowByte = r * pc.rowBytes;
    float acc = 0.0;
    if (pc.K % 4u == 0u) {
        for (uint i = 4u * lane; i < pc.K; i += 4u * lanes) {
            const vec4 w = weightAt4(rowByte, i);
            acc += dot(w, vec4(inputAt(xb, i, scale), inputAt(xb, i + 1u, scale), inputAt(xb, i + 2u, scale),
                                inputAt(xb, i + 3u, scale)));
        }
    } else {
        for (uint i = lane; i < pc.K; i += lanes)
            acc += weightAt(rowByte, i) * inputAt(xb, i, scale);
    }
    return subgroupAdd(acc);
}

void main()
{
    const uint t = gl_WorkGroupID.y;
    const uint xb = pc.xOffset + t * pc.xStride;
    float scale = 1.0;
    if ((pc.flags & 4u) != 0u) {
        float ss = 0.0;
        for (uint i = gl_SubgroupInvocationID; i < pc.K; i += gl_SubgroupSize)
            ss += x[xb + i] * x[xb + i];
        scale = inversesqrt(subgroupAdd(ss) / float(pc.K) + pc.eps);
    }
    const uint first = gl_WorkGroupID.x * ROWS_PER_WG, end = min(pc.M, first + ROWS_PER_WG);
    for (uint r = first + gl_SubgroupID; r < end; r += gl_NumSubgroups) {
        float acc = rowDot(r, xb, scale);
        if (subgroupElect()) {
            const uint o = pc.yOffset + t * pc.yStride + r;
            if ((pc.flags & 2u) != 0u)
                acc += bias[r];
            if ((pc.flags & 1u) != 0u)
                acc += y[o];
            y[o] = acc;
        }
    }
}
#else
void main()
{
    const uint r = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    const uint rowByte = r * pc.rowBytes;
    const uint xb = pc.xOffset + t * pc.xStride;
    float scale = 1.0;
    if ((pc.flags & 4u) != 0u) {
        float ss = 0.0;
        for (uint i = gl_LocalInvocationID.x; i < pc.K; i += WG_SIZE)
            ss += x[xb + i] * x[xb + i];
        scale = inversesqrt(wgSum(ss) / float(pc.K) + pc.eps);
    }
    float acc = 0.0;
    if (pc.K % 4u == 0u) {
        // Four weights per step: consecutive threads still read consecutive words.
        for (uint i = 4u * gl_LocalInvocationID.x; i < pc.K; i += 4u * WG_SIZE) {
            const vec4 w = weightAt4(rowByte, i);
            acc += dot(w, vec4(inputAt(xb, i, scale), inputAt(xb, i + 1u, scale), inputAt(xb, i + 2u, scale),
                                inputAt(xb, i + 3u, scale)));
        }
    } else {
        for (uint i = gl_LocalInvocationID.x; i < pc.K; i += WG_SIZE)
            acc += weightAt(rowByte, i) * inputAt(xb, i, scale);
    }
    acc = wgSum(acc);
    if (gl_LocalInvocationID.x == 0u) {
        const uint o = pc.yOffset + t * pc.yStride + r;
        if ((pc.flags & 2u) != 0u)
            acc += bias[r];
        if ((pc.flags & 1u) != 0u)
            acc += y[o];
        y[o] = acc;
    }
}
#endif
