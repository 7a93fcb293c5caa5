#version 450
// SwiGLU: gate[i] = silu(gate[i]) * up[i] = gate / (1 + exp(-gate)) * up, in place.
// Dispatch: ceil(n / WG). Bindings: 0 gate (in/out), 1 up.
#include "common.glsl"

layout(std430, binding = 0) buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main()
{
    const uint i = gl_GlobalInvocationID.x;
    if (i >= pc.n)
        return;
    const float g = gate[i];
    gate[i] = g / (1.0 + exp(-g)) * up[i];
}
