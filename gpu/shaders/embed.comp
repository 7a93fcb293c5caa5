#version 450
// Token embedding lookup: out[t][i] = dequant(table row tokens[t])[i].
// Dispatch: (nTokens). Bindings: 0 table (weight layout), 1 token ids, 2 out.
#include "common.glsl"
#define WEIGHT_BINDING 0
#include "dequant.glsl"

layout(std430, binding = 1) readonly buffer Tokens { int tokens[]; };
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };
layout(push_constant) uniform Push { uint nEmbd; uint rowBytes; uint outOffset; } pc;

void main()
{
    const uint t = gl_WorkGroupID.x;
    const uint rowByte = uint(tokens[t]) * pc.rowBytes;
    for (uint i = gl_LocalInvocationID.x; i < pc.nEmbd; i += WG_SIZE)
        outv[pc.outOffset + t * pc.nEmbd + i] = weightAt(rowByte, i);
}
