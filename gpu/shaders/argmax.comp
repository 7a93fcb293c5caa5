#version 450
// Index of the largest of n logits (lowest index on ties), for greedy decoding without reading
// the logits back. One work group. Bindings: 0 logits, 1 result {index, value}.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) writeonly buffer R { uint index; float value; } result;
layout(push_constant) uniform Push { uint n; uint offset; } pc;

shared float bestV[256];
shared uint bestI[256];

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    float v = -3.0e38;
    uint idx = 0xFFFFFFFFu;
    for (uint i = tid; i < pc.n; i += WG_SIZE) {
        float x = logits[pc.offset + i];
        if (x > v) { v = x; idx = i; }
    }
    bestV[tid] = v;
    bestI[tid] = idx;
    barrier();
    for (uint s = WG_SIZE / 2u; s > 0u; s >>= 1) {
        if (tid < s) {
            float ov = bestV[tid + s];
            uint oi = bestI[tid + s];
            if (ov > bestV[tid] || (ov == bestV[tid] && oi < bestI[tid])) {
                bestV[tid] = ov;
                bestI[tid] = oi;
            }
        }
        barrier();
    }
    if (tid == 0u) {
        result.index = bestI[0];
        result.value = bestV[0];
    }
}
