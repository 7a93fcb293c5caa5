#pragma once
// 2:4 semi-structured weights in a compact form: of every 4 consecutive weights of a row at most 2
// are non-zero, so a row is stored as cols/2 F16 values (the two kept ones of each group, in
// column order) and a 4-bit code per group (two 2-bit positions inside the group), two groups
// to a byte (low nibble: the even group): (2 x 16 + 4) bits per 4 weights = 9 bits per weight,
// against 16 for dense F16.
//
// A mat-vec y = W x reads the values and picks the matching x elements. The scalar loop is the
// reference; the AVX2 path decodes two groups' codes at a time through a 256-entry table of lane
// permutations (no gathers). See docs/PRUNING.md for what it measures against dense F16.
#include <cstdint>
#include <vector>

namespace tenfold {

struct Sparse24F16 {
    int64_t rows = 0, cols = 0;   // cols: a multiple of 8
    std::vector<uint16_t> values; // rows * cols / 2, F16
    std::vector<uint8_t> codes;   // rows * cols / 8
};

// From dense row-major floats W [rows x cols] in which every group of 4 has at most 2 non-zeros
// (a group with fewer keeps zeros as values). Throws InvalidArgument naming the row and group
// when one has more, or when cols is not a multiple of 8.
Sparse24F16 packSparse24(const float* W, int64_t rows, int64_t cols);

// y[r] = sum_j W[r][j] x[j] for r in [r0, r1).
void sparse24MatVecRef(const Sparse24F16& w, const float* x, float* y, int64_t r0, int64_t r1);
// The AVX2 path (the caller checks cpuHasAvx2FmaF16c()).
void sparse24MatVecAvx2(const Sparse24F16& w, const float* x, float* y, int64_t r0, int64_t r1);
// The best available.
void sparse24MatVec(const Sparse24F16& w, const float* x, float* y, int64_t r0, int64_t r1);

} // namespace tenfold
