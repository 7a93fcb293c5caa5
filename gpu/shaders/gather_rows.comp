#version 450
// Copies chosen rows of x into consecutive rows of out: out[r][i] = x[idx[r]][i], r < nRows, with
// idx read at rows[indexOffset + r]. Batches of many sequences use it to pick the rows whose
// logits or embeddings are wanted before the final norm and the output projection.
// Dispatch: ceil(nRows * n / WG). Bindings: 0 x, 1 rows, 2 out.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Rows { uint rows[]; };
layout(std430, binding = 2) writeonly buffer O { float outv[]; };
layout(push_constant) uniform Push { uint nRows; uint n; uint indexOffset; } pc;

void main()
{
    const uint g = gl_GlobalInvocationID.x;
    if (g >= pc.nRows * pc.n)
        return;
    const uint r = g / pc.n, i = g % pc.n;
    outv[g] = x[rows[pc.indexOffset + r] * pc.n + i];
}
