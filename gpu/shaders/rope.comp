#version 450
// Rotary position embedding, in place, for rows of nHeads heads of headDim at positions
// pos0 + t (pos0 read from the params buffer so a recorded pass works at any position).
// theta = (pos0 + t) * freqScale * freqBase^(-2i/headDim); normal mode rotates (2i, 2i+1),
// NeoX mode rotates (i, i + headDim/2).
// PAGED (batches of many sequences): row t's position is rows[t] instead of pos0 + t.
// Dispatch: ceil(nTokens * nHeads * headDim/2 / WG). Bindings: 0 x, 1 params (PAGED: rows).
#include "common.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
#ifdef PAGED
layout(std430, binding = 1) readonly buffer Rows { uint rowPos[]; };
#else
layout(std430, binding = 1) readonly buffer Params { uint pos0; } params;
#endif
layout(push_constant) uniform Push {
    uint nTokens; uint nHeads; uint headDim; uint rowStride; float freqBase; float freqScale; uint neox;
} pc;

void main()
{
    const uint half_ = pc.headDim / 2u;
    const uint g = gl_GlobalInvocationID.x;
    if (g >= pc.nTokens * pc.nHeads * half_)
        return;
    const uint i = g % half_, h = (g / half_) % pc.nHeads, t = g / (half_ * pc.nHeads);
#ifdef PAGED
    const float pos = float(rowPos[t]);
#else
    const float pos = float(params.pos0 + t);
#endif
    const float theta = pos * pc.freqScale * pow(pc.freqBase, -2.0 * float(i) / float(pc.headDim));
    const float c = cos(theta), s = sin(theta);
    const uint base = t * pc.rowStride + h * pc.headDim;
    const uint a = base + (pc.neox != 0u ? i : 2u * i);
    const uint b = a + (pc.neox != 0u ? half_ : 1u);
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
}
