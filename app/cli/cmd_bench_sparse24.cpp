// bench-sparse24: the 2:4 F16 mat-vec (tensor/sparse24.h) against the dense F16 mat-vec of the
// same matrix (the decode kernel tenfold uses for F16 weights), single-threaded, on random 2:4
// matrices of the given shapes. Figures go into docs/PRUNING.md / docs/BENCHMARKS.md.
#include "cli_common.h"
#include "commands.h"

#include "tensor/cpu_features.h"
#include "tensor/kernels.h"
#include "tensor/sparse24.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

namespace tenfold::cli {

CommandSpec benchSparse24Spec()
{
    return {"bench-sparse24", "[--shapes RxC,...] [--reps N]",
            "Mat-vec speed of a 2:4 sparse F16 matrix (values + 2-bit positions) against the\n"
            "same matrix stored dense in F16, one thread, best of --reps timed passes of\n"
            "enough mat-vecs to take ~0.2 s. Prints GB/s of weight bytes and the speed-up.",
            {},
            {},
            {{"--shapes", "", "LIST", "comma-separated ROWSxCOLS (default 1024x384,384x1024,4096x4096,11008x4096)"},
             {"--reps", "", "N", "timed repetitions (default 5)"}}};
}

int runBenchSparse24(const ParsedArgs& args)
{
    const std::string shapes = args.getString("--shapes", "1024x384,384x1024,4096x4096,11008x4096");
    const int reps = int(args.getInt("--reps", 5, 1, 1000));
    const TypeKernels& dense = kernels(GGMLType::F16);
    std::printf("CPU kernels: %s; 2:4 path: %s\n", cpuKernelLevel(), cpuHasAvx2FmaF16c() ? "AVX2" : "scalar");
    std::printf("%-12s %12s %12s %10s %10s %8s %12s\n", "shape", "dense us", "2:4 us", "dense GB/s", "2:4 GB/s",
                "speedup", "max rel err");
    std::stringstream ss(shapes);
    std::string item;
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.f, 1.f);
    while (std::getline(ss, item, ',')) {
        const size_t xpos = item.find('x');
        if (xpos == std::string::npos)
            throw UsageError("--shapes takes ROWSxCOLS items, got '" + item + "'");
        const int64_t rows = std::stoll(item.substr(0, xpos)), cols = std::stoll(item.substr(xpos + 1));
        if (rows <= 0 || cols <= 0 || cols % 8)
            throw UsageError("shape " + item + ": columns must be a positive multiple of 8");
        std::vector<float> W(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols));
        for (auto& v : x)
            v = nd(rng);
        for (int64_t i = 0; i < rows * cols; i += 4) { // keep 2 random positions of each group
            const int a = int(rng() % 4);
            int b = int(rng() % 3);
            b += b >= a;
            for (int j = 0; j < 4; ++j)
                W[size_t(i + j)] = (j == a || j == b) ? nd(rng) : 0.0f;
        }
        const Sparse24F16 sp = packSparse24(W.data(), rows, cols);
        std::vector<uint16_t> wd(W.size()), xh(x.size());
        for (size_t i = 0; i < W.size(); ++i)
            wd[i] = fp32ToFp16(W[i]);
        for (size_t i = 0; i < x.size(); ++i)
            xh[i] = fp32ToFp16(x[i]);
        std::vector<float> yd(static_cast<size_t>(rows)), ys(static_cast<size_t>(rows)), yr(static_cast<size_t>(rows));
        const size_t rb = size_t(cols) * 2;
        auto runDense = [&] {
            if (dense.vecDotRows)
                dense.vecDotRows(cols, wd.data(), rb, int(rows), xh.data(), yd.data());
            else
                for (int64_t r = 0; r < rows; ++r)
                    yd[size_t(r)] = dense.vecDot(cols, wd.data() + size_t(r) * size_t(cols), xh.data());
        };
        auto runSparse = [&] { sparse24MatVec(sp, x.data(), ys.data(), 0, rows); };
        auto time = [&](auto&& fn) {
            using clk = std::chrono::steady_clock;
            int n = 1;
            for (;;) { // calibrate the inner count to ~0.2 s
                const auto t0 = clk::now();
                for (int i = 0; i < n; ++i)
                    fn();
                if (std::chrono::duration<double>(clk::now() - t0).count() > 0.05 || n > (1 << 24))
                    break;
                n *= 2;
            }
            n *= 4;
            double best = 1e30;
            for (int rep = 0; rep < reps; ++rep) {
                const auto t0 = clk::now();
                for (int i = 0; i < n; ++i)
                    fn();
                best = std::min(best, std::chrono::duration<double>(clk::now() - t0).count() / n);
            }
            return best;
        };
        const double td = time(runDense), ts = time(runSparse);
        sparse24MatVecRef(sp, x.data(), yr.data(), 0, rows);
        double maxErr = 0, scale = 0;
        for (int64_t r = 0; r < rows; ++r) {
            maxErr = std::max(maxErr, double(std::fabs(ys[size_t(r)] - yr[size_t(r)])));
            scale = std::max(scale, double(std::fabs(yr[size_t(r)])));
        }
        const double bd = double(wd.size()) * 2, bs = double(sp.values.size()) * 2 + double(sp.codes.size());
        std::printf("%-12s %12.2f %12.2f %10.2f %10.2f %8.2f %12.2e\n", item.c_str(), td * 1e6, ts * 1e6, bd / td / 1e9,
                    bs / ts / 1e9, td / ts, scale > 0 ? maxErr / scale : 0.0);
    }
    return 0;
}

} // namespace tenfold::cli
