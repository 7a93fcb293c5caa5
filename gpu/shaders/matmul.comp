#version 450
// Tiled mat-mul for prompt processing: Y[t][r] = sum_k W[r][k] * X[t][k] (+ bias) (+ Y).
// Each 256-thread work group computes a 64-row x 32-token tile, staging 64x32 dequantized
// weights and 32x32 activations per K step in shared memory, so every weight element is
// dequantized once per 32 tokens instead of once per token.
// Dispatch: (ceil(M/64), ceil(N/32)). Bindings: 0 W, 1 X, 2 Y, 3 bias, 4 aux. Work-group size 256.
// flags: 1 accumulate, 2 bias, 8 X := silu(X) * aux (fused SwiGLU); as in matvec.comp.
#include "common.glsl"
#define WEIGHT_BINDING 0
#include "dequant.glsl"

layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(std430, binding = 3) readonly buffer B { float bias[]; };
layout(std430, binding = 4) readonly buffer A { float aux[]; };
layout(push_constant) uniform Push {
    uint K; uint M; uint N; uint rowBytes; uint xOffset; uint xStride; uint yOffset; uint yStride; uint flags;
} pc;

#define TM 64u
#define TN 32u
#define TK 32u
shared float wTile[TM][TK + 1u];
shared float xTile[TN][TK + 1u];

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint row0 = gl_WorkGroupID.x * TM, tok0 = gl_WorkGroupID.y * TN;
    const uint tr = tid % TM;          // this thread's row in the tile
    const uint tc = (tid / TM) * 8u;   // its first of 8 tokens
    float acc[8] = float[8](0, 0, 0, 0, 0, 0, 0, 0);

    for (uint k0 = 0u; k0 < pc.K; k0 += TK) {
        if (pc.K % 4u == 0u) {
            // Quads of weights: K % 4 == 0 means a quad never straddles the row's end.
            for (uint e = tid; e < TM * TK / 4u; e += 256u) {
                const uint r = e / (TK / 4u), kk = (e % (TK / 4u)) * 4u;
                const uint gr = row0 + r, gk = k0 + kk;
                const vec4 w = (gr < pc.M && gk < pc.K) ? weightAt4(gr * pc.rowBytes, gk) : vec4(0.0);
                wTile[r][kk] = w.x;
                wTile[r][kk + 1u] = w.y;
                wTile[r][kk + 2u] = w.z;
                wTile[r][kk + 3u] = w.w;
            }
        } else {
            for (uint e = tid; e < TM * TK; e += 256u) {
                const uint r = e / TK, kk = e % TK;
                const uint gr = row0 + r, gk = k0 + kk;
                wTile[r][kk] = (gr < pc.M && gk < pc.K) ? weightAt(gr * pc.rowBytes, gk) : 0.0;
            }
        }
        for (uint e = tid; e < TN * TK; e += 256u) {
            uint c = e / TK, kk = e % TK;
            uint gt = tok0 + c, gk = k0 + kk;
            float v = 0.0;
            if (gt < pc.N && gk < pc.K) {
                const uint xi = pc.xOffset + gt * pc.xStride + gk;
                v = x[xi];
                if ((pc.flags & 8u) != 0u)
                    v = v / (1.0 + exp(-v)) * aux[xi];
            }
            xTile[c][kk] = v;
        }
        barrier();
        for (uint kk = 0u; kk < TK; ++kk) {
            const float w = wTile[tr][kk];
            for (uint j = 0u; j < 8u; ++j)
                acc[j] += w * xTile[tc + j][kk];
        }
        barrier();
    }
    const uint r = row0 + tr;
    if (r >= pc.M)
        return;
    for (uint j = 0u; j < 8u; ++j) {
        const uint t = tok0 + tc + j;
        if (t >= pc.N)
            break;
        const uint o = pc.yOffset + t * pc.yStride + r;
        float v = acc[j];
        if ((pc.flags & 2u) != 0u)
            v += bias[r];
        if ((pc.flags & 1u) != 0u)
            v += y[o];
        y[o] = v;
    }
}
