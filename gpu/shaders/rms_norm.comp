#version 450
// RMSNorm per row: out[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * w[i].
// Dispatch: (nRows). Bindings: 0 x, 1 w (F32), 2 out.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };
layout(push_constant) uniform Push { uint n; uint inOffset; uint outOffset; float eps; } pc;

void main()
{
    const uint r = gl_WorkGroupID.x;
    const uint base = pc.inOffset + r * pc.n;
    float ss = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.n; i += WG_SIZE)
        ss += x[base + i] * x[base + i];
    ss = wgSum(ss);
    const float scale = inversesqrt(ss / float(pc.n) + pc.eps);
    for (uint i = gl_LocalInvocationID.x; i < pc.n; i += WG_SIZE)
        outv[pc.outOffset + r * pc.n + i] = x[base + i] * scale * w[i];
}
