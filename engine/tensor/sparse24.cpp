#include "tensor/sparse24.h"

#include "core/error.h"
#include "tensor/cpu_features.h"
#include "tensor/half.h"

#include <string>
#include <utility>

namespace tenfold {

Sparse24F16 packSparse24(const float* W, int64_t rows, int64_t cols)
{
    if (cols % 8 != 0 || cols <= 0 || rows <= 0)
        throw InvalidArgument("2:4 packing needs a positive row count and a column count that is a multiple of 8, got " +
                              std::to_string(rows) + "x" + std::to_string(cols));
    Sparse24F16 s;
    s.rows = rows;
    s.cols = cols;
    s.values.resize(size_t(rows * cols / 2));
    s.codes.assign(size_t(rows * cols / 8), 0);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t g = 0; g < cols / 4; ++g) {
            const float* w = W + r * cols + g * 4;
            int pos[2] = {-1, -1}, n = 0;
            for (int j = 0; j < 4; ++j)
                if (w[j] != 0.0f) {
                    if (n == 2)
                        throw InvalidArgument("2:4 packing: row " + std::to_string(r) + ", group " +
                                              std::to_string(g) + " has more than 2 non-zero weights");
                    pos[n++] = j;
                }
            // Fewer than 2 non-zeros: the free slots take unused positions (their value is 0).
            if (n == 0) {
                pos[0] = 0;
                pos[1] = 1;
            } else if (n == 1) {
                pos[1] = pos[0] == 0 ? 1 : 0;
                if (pos[1] < pos[0])
                    std::swap(pos[0], pos[1]);
            }
            const size_t vi = size_t(r * cols / 2 + g * 2);
            s.values[vi] = fp32ToFp16(w[pos[0]]);
            s.values[vi + 1] = fp32ToFp16(w[pos[1]]);
            const uint8_t code = uint8_t(pos[0] | (pos[1] << 2));
            s.codes[size_t((r * cols / 4 + g) / 2)] |= uint8_t(code << ((g & 1) * 4));
        }
    return s;
}

void sparse24MatVecRef(const Sparse24F16& w, const float* x, float* y, int64_t r0, int64_t r1)
{
    const int64_t groups = w.cols / 4;
    for (int64_t r = r0; r < r1; ++r) {
        const uint16_t* v = w.values.data() + r * w.cols / 2;
        const uint8_t* c = w.codes.data() + r * groups / 2;
        float sum = 0;
        for (int64_t g = 0; g < groups; ++g) {
            const unsigned code = (c[g / 2] >> ((g & 1) * 4)) & 15u;
            sum += fp16ToFp32(v[2 * g]) * x[4 * g + (code & 3)] + fp16ToFp32(v[2 * g + 1]) * x[4 * g + (code >> 2)];
        }
        y[r] = sum;
    }
}

void sparse24MatVec(const Sparse24F16& w, const float* x, float* y, int64_t r0, int64_t r1)
{
    if (cpuHasAvx2FmaF16c())
        sparse24MatVecAvx2(w, x, y, r0, r1);
    else
        sparse24MatVecRef(w, x, y, r0, r1);
}

} // namespace tenfold
