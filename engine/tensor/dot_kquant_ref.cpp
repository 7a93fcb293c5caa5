// Scalar reference dot products of K-quant weight rows with Q8_K activation rows.
//
// Each block's weights are first unpacked to integer levels in element order, so these loops
// read like the format definition: for a block,
//   sum = a.d * ( d * sum_g scale_g * sum_{e in g} q_e * a_e  -  dmin * sum_g min_g * bsum_g )
// where the integer sums are exact and only the per-block combination is in floating point.
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"

namespace tenfold::ref {
namespace {

int groupDot(const int8_t* q, const int8_t* a, int len)
{
    int s = 0;
    for (int l = 0; l < len; ++l)
        s += q[l] * a[l];
    return s;
}

} // namespace

float dotQ2_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ2_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int8_t q[kQKK];
        for (int e = 0; e < kQKK; ++e) // element e: byte e%32 of its half, bit pair (e%128)/32
            q[e] = int8_t((x[i].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
        int scaled = 0, mins = 0;
        for (int g = 0; g < 16; ++g) {
            scaled += (x[i].scales[g] & 0xF) * groupDot(q + 16 * g, y[i].qs + 16 * g, 16);
            mins += (x[i].scales[g] >> 4) * y[i].bsums[g];
        }
        sum += double(y[i].d) * (double(fp16ToFp32(x[i].d)) * scaled - double(fp16ToFp32(x[i].dmin)) * mins);
    }
    return float(sum);
}

float dotQ3_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ3_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int8_t q[kQKK], sc[16];
        unpackQ3KScales(x[i].scales, sc);
        for (int e = 0; e < kQKK; ++e) {
            const int low = (x[i].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            const bool high = (x[i].hmask[e % 32] >> (e / 32)) & 1;
            q[e] = int8_t(low - (high ? 0 : 4));
        }
        int scaled = 0;
        for (int g = 0; g < 16; ++g)
            scaled += sc[g] * groupDot(q + 16 * g, y[i].qs + 16 * g, 16);
        sum += double(y[i].d) * double(fp16ToFp32(x[i].d)) * scaled;
    }
    return float(sum);
}

float dotQ4_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ4_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int8_t q[kQKK];
        for (int e = 0; e < kQKK; ++e) { // group e/32; chunk e/64 holds groups 2c (low) and 2c+1 (high)
            const uint8_t byte = x[i].qs[32 * (e / 64) + e % 32];
            q[e] = int8_t(((e / 32) & 1) ? (byte >> 4) : (byte & 0xF));
        }
        int scaled = 0, mins = 0;
        for (int g = 0; g < 8; ++g) {
            uint8_t sc, m;
            scaleMinK4(g, x[i].scales, sc, m);
            scaled += sc * groupDot(q + 32 * g, y[i].qs + 32 * g, 32);
            mins += m * (y[i].bsums[2 * g] + y[i].bsums[2 * g + 1]);
        }
        sum += double(y[i].d) * (double(fp16ToFp32(x[i].d)) * scaled - double(fp16ToFp32(x[i].dmin)) * mins);
    }
    return float(sum);
}

float dotQ5_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ5_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int8_t q[kQKK];
        for (int e = 0; e < kQKK; ++e) {
            const int g = e / 32;
            const uint8_t byte = x[i].qs[32 * (e / 64) + e % 32];
            const int low = (g & 1) ? (byte >> 4) : (byte & 0xF);
            q[e] = int8_t(low | (((x[i].qh[e % 32] >> g) & 1) << 4));
        }
        int scaled = 0, mins = 0;
        for (int g = 0; g < 8; ++g) {
            uint8_t sc, m;
            scaleMinK4(g, x[i].scales, sc, m);
            scaled += sc * groupDot(q + 32 * g, y[i].qs + 32 * g, 32);
            mins += m * (y[i].bsums[2 * g] + y[i].bsums[2 * g + 1]);
        }
        sum += double(y[i].d) * (double(fp16ToFp32(x[i].d)) * scaled - double(fp16ToFp32(x[i].dmin)) * mins);
    }
    return float(sum);
}

float dotQ6_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int8_t q[kQKK];
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = x[i].ql + 64 * half;
            const uint8_t* qh = x[i].qh + 32 * half;
            int8_t* out = q + 128 * half;
            for (int l = 0; l < 32; ++l) {
                out[l] = int8_t(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                out[l + 32] = int8_t(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                out[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                out[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int scaled = 0;
        for (int g = 0; g < 16; ++g)
            scaled += x[i].scales[g] * groupDot(q + 16 * g, y[i].qs + 16 * g, 16);
        sum += double(y[i].d) * double(fp16ToFp32(x[i].d)) * scaled;
    }
    return float(sum);
}

float dotQ8_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ8_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    double sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i)
        sum += double(x[i].d) * double(y[i].d) * groupDot(x[i].qs, y[i].qs, kQKK);
    return float(sum);
}

} // namespace tenfold::ref
