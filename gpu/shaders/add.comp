#version 450
// Residual add: x[i] += y[i]. (The forward pass fuses most residual adds into the projection
// mat-mul; this stands alone for the cases that cannot, and for tests.)
// Dispatch: ceil(n / WG). Bindings: 0 x (in/out), 1 y.
#include "common.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main()
{
    const uint i = gl_GlobalInvocationID.x;
    if (i < pc.n)
        x[i] += y[i];
}
