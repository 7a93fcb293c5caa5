#include "passes/palette.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "passes/gguf_stream_writer.h"
#include "passes/gptq.h"
#include "passes/parallel_rows.h"
#include "passes/quantize_model.h"
#include "passes/row_convert.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tenfold {
namespace {

bool isLayerMatrix(const GGUFTensorInfo& t)
{
    return t.ne.size() == 2 && t.name.rfind("blk.", 0) == 0 && t.name.ends_with(".weight");
}

int bitsOfTable(const GGUFFile& file, const GGUFTensorInfo& table)
{
    if (table.type != GGMLType::F32 || table.ne.size() != 2 || (table.ne[0] != 4 && table.ne[0] != 8 && table.ne[0] != 16))
        throw FormatError(file.label(), table.infoOffset, "palette table '" + table.name + "' must be F32 [4, 8 or 16, groups]");
    return table.ne[0] == 16 ? 4 : table.ne[0] == 8 ? 3 : 2;
}

} // namespace

std::vector<float> weightedKMeans1D(const float* values, const float* weights, size_t n, int k, int iterations)
{
    if (k < 1 || n == 0)
        throw InvalidArgument("k-means needs k >= 1 and at least one value");
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
    auto w = [&](size_t i) { return weights ? double(weights[i]) : 1.0; };
    double total = 0;
    for (size_t i = 0; i < n; ++i)
        total += w(i);
    // Seeds: the weighted quantiles at the middle of k equal-weight slices.
    std::vector<float> c(static_cast<size_t>(k));
    {
        double acc = 0;
        size_t at = 0;
        for (int j = 0; j < k; ++j) {
            const double target = total * (j + 0.5) / k;
            while (at + 1 < n && acc + w(order[at]) < target)
                acc += w(order[at++]);
            c[size_t(j)] = values[order[at]];
        }
    }
    std::vector<double> sum(static_cast<size_t>(k)), mass(static_cast<size_t>(k));
    for (int it = 0; it < iterations; ++it) {
        std::sort(c.begin(), c.end());
        std::fill(sum.begin(), sum.end(), 0.0);
        std::fill(mass.begin(), mass.end(), 0.0);
        // Values are sorted, so assignment is a sweep over the midpoints.
        int j = 0;
        for (size_t s = 0; s < n; ++s) {
            const size_t i = order[s];
            while (j + 1 < k && values[i] > 0.5f * (c[size_t(j)] + c[size_t(j + 1)]))
                ++j;
            sum[size_t(j)] += w(i) * values[i];
            mass[size_t(j)] += w(i);
        }
        bool moved = false;
        for (int q = 0; q < k; ++q)
            if (mass[size_t(q)] > 0) {
                const float next = float(sum[size_t(q)] / mass[size_t(q)]);
                moved = moved || next != c[size_t(q)];
                c[size_t(q)] = next;
            }
        if (!moved)
            break;
    }
    std::sort(c.begin(), c.end());
    return c;
}

int nearestCentroid(const float* c, int k, float v)
{
    int j = 0;
    while (j + 1 < k && v > 0.5f * (c[j] + c[j + 1]))
        ++j;
    return j;
}

int nearestCentroid(const std::vector<float>& c, float v) { return nearestCentroid(c.data(), int(c.size()), v); }

void packIndices(const int* indices, int64_t n, int bits, uint8_t* out)
{
    std::fill(out, out + (n * bits + 7) / 8, uint8_t(0));
    for (int64_t j = 0; j < n; ++j) {
        const int64_t bit = j * bits;
        out[bit >> 3] |= uint8_t(indices[j] << (bit & 7));
        if ((bit & 7) + bits > 8) // a 3-bit index may straddle two bytes
            out[(bit >> 3) + 1] |= uint8_t(indices[j] >> (8 - (bit & 7)));
    }
}

int64_t defaultPaletteGroupRows(int64_t rows, int64_t in, int bits)
{
    // Table bits per group (32 * 2^bits) over group weights (g * in) at most 1/16.
    const int64_t minRows = (int64_t(32) * (int64_t(1) << bits) * 16 + in - 1) / in;
    for (int64_t g = std::max<int64_t>(1, minRows); g <= rows; ++g)
        if (rows % g == 0)
            return g;
    return rows;
}

PaletteReport paletteCompress(const std::filesystem::path& in, const std::filesystem::path& out,
                              const PaletteOptions& options)
{
    for (int b : {options.bits})
        if (b < 2 || b > 4)
            throw InvalidArgument("--palette takes 2, 3 or 4 bits per index, not " + std::to_string(b));
    for (const auto& [key, b] : options.bitsFor)
        if (b < 2 || b > 4)
            throw InvalidArgument("palette: " + key + " asks for " + std::to_string(b) + " bits; 2, 3 or 4 are supported");
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in, out, ec))
        throw InvalidArgument("input and output are the same file: " + in.string());
    const std::shared_ptr<GGUFFile> src = GGUFFile::open(in);
    const int nThreads = resolveThreadCount(options.nThreads);
    auto bitsOf = [&](const std::string& name) {
        for (const auto& [key, b] : options.bitsFor)
            if (name.find(key) != std::string::npos)
                return b;
        return options.bits;
    };
    PaletteReport report;
    report.fileBytesBefore = src->fileSize();

    auto eligible = [&](const GGUFTensorInfo& t) {
        const int bits = bitsOf(t.name);
        const bool head = options.embedding && t.ne.size() == 2 && (t.name == "token_embd.weight" || t.name == "output.weight");
        return (isLayerMatrix(t) || head) && (t.ne[0] * bits) % 8 == 0;
    };
    auto groupRowsOf = [&](const GGUFTensorInfo& t) {
        const int bits = bitsOf(t.name);
        const int64_t g = options.groupRows > 0 ? options.groupRows : defaultPaletteGroupRows(t.ne[1], t.ne[0], bits);
        if (t.ne[1] % g != 0)
            throw InvalidArgument("palette: " + std::to_string(g) + " rows per palette do not divide the " +
                                  std::to_string(t.ne[1]) + " rows of " + t.name);
        return g;
    };
    auto denseTypeOf = [&](const GGUFTensorInfo& t) {
        return options.denseType && t.ne.size() >= 2 ? chooseTensorType(t.ne, *options.denseType) : t.type;
    };

    auto metadata = quantizedMetadata(*src, options.denseType.value_or(GGMLType::F16));
    if (!options.denseType)
        if (const GGUFValue* ft = src->find("general.file_type"))
            for (auto& kv : metadata)
                if (kv.first == "general.file_type")
                    kv.second = *ft;
    std::vector<std::string> names;
    std::vector<int32_t> bitsList, groupRows;
    std::vector<StreamTensorSpec> specs;
    size_t count = 0;
    for (const GGUFTensorInfo& t : src->tensors()) {
        if (!eligible(t)) {
            specs.push_back({t.name, denseTypeOf(t), t.ne});
            continue;
        }
        const int64_t g = groupRowsOf(t);
        const int bits = bitsOf(t.name), k = 1 << bits;
        names.push_back(t.name);
        bitsList.push_back(bits);
        groupRows.push_back(int32_t(g));
        specs.push_back({t.name + ".pal_idx", GGMLType::I8, {t.ne[0] * bits / 8, t.ne[1]}});
        specs.push_back({t.name + ".pal_tab", GGMLType::F32, {k, t.ne[1] / g}});
        if (options.rowScale)
            specs.push_back({t.name + ".pal_scale", GGMLType::F32, {t.ne[1]}});
        ++count;
    }
    metadata.emplace_back("tenfold.palette.version", GGUFValue::u32(1));
    metadata.emplace_back("tenfold.palette.tensors", GGUFValue::stringArray(names));
    metadata.emplace_back("tenfold.palette.bits", GGUFValue::i32Array(bitsList));
    metadata.emplace_back("tenfold.palette.group_rows", GGUFValue::i32Array(groupRows));

    GGUFStreamWriter writer(out, metadata, specs);
    QuantizeOptions qo;
    qo.method = options.gptq ? QuantMethod::Gptq : QuantMethod::Imatrix;
    qo.hessians = options.hessians;
    size_t done = 0;
    for (const GGUFTensorInfo& t : src->tensors()) {
        if (!eligible(t)) {
            const GGMLType to = denseTypeOf(t);
            quantizeTensor(t, to, to == t.type ? QuantMethod::Rtn : methodFor(qo, t, to), qo, nThreads,
                           [&writer](const uint8_t* data, size_t n) { writer.append(data, n); });
            continue;
        }
        if (options.progress)
            options.progress(done++, count, t.name);
        const int bits = bitsOf(t.name), k = 1 << bits;
        const int64_t cols = t.ne[0], rows = t.ne[1], g = groupRowsOf(t), groups = rows / g;
        std::vector<float> colWeight(size_t(cols), 1.0f);
        if (options.hessians)
            if (const Eigen::MatrixXd* h = options.hessians->find(t.name); h && h->rows() == cols) {
                double mean = h->diagonal().mean();
                for (int64_t j = 0; j < cols; ++j) // a floor keeps never-active columns on the grid
                    colWeight[size_t(j)] = float((*h)(j, j) + 1e-3 * (mean > 0 ? mean : 1.0));
            }
        std::vector<float> values(size_t(rows * cols));
        const size_t inRow = rowBytes(t.type, cols);
        parallelRanges(rows, nThreads, [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r)
                rowToFloat(t.type, t.data + size_t(r) * inRow, values.data() + size_t(r * cols), cols);
        });
        // Row scales: values become value / RMS(row); an element's error then costs scale^2 more.
        std::vector<float> scale(static_cast<size_t>(rows), 1.0f);
        if (options.rowScale)
            for (int64_t r = 0; r < rows; ++r) {
                double ss = 0;
                for (int64_t j = 0; j < cols; ++j)
                    ss += double(values[size_t(r * cols + j)]) * values[size_t(r * cols + j)];
                const float s = float(std::sqrt(ss / double(cols)));
                scale[size_t(r)] = s > 0 ? s : 1.0f;
                for (int64_t j = 0; j < cols; ++j)
                    values[size_t(r * cols + j)] /= scale[size_t(r)];
            }
        std::vector<float> table(size_t(groups * k));
        parallelRanges(groups, nThreads, [&](int64_t b, int64_t e) {
            std::vector<float> w(size_t(g * cols));
            for (int64_t q = b; q < e; ++q) {
                for (int64_t i = 0; i < g * cols; ++i) {
                    const float s = scale[size_t(q * g + i / cols)];
                    w[size_t(i)] = colWeight[size_t(i % cols)] * s * s;
                }
                const float* v = values.data() + size_t(q * g * cols);
                const std::vector<float> c = weightedKMeans1D(v, w.data(), size_t(g * cols), k, options.iterations);
                std::copy(c.begin(), c.end(), table.begin() + q * k);
            }
        });
        const Eigen::MatrixXd* h = options.hessians ? options.hessians->find(t.name) : nullptr;
        if (options.gptq && h && h->rows() == cols) {
            // Rows are independent in GPTQ, so a row's scale does not change its choices: the
            // scaled values go in and come out as table entries.
            Eigen::Map<RowMatrixF> W(values.data(), rows, cols);
            RowMatrixF M = W;
            const int lazy = cols % 128 == 0 ? 128 : cols % 32 == 0 ? 32 : int(cols);
            gptqQuantize(
                M, *h, lazy, 0.01, [](int64_t, int, const float*) {},
                [&](int64_t row, int, float value) {
                    const float* c = table.data() + (row / g) * k;
                    return c[nearestCentroid(c, k, value)];
                },
                nThreads);
            W = M;
        }
        std::vector<uint8_t> packed(size_t(rows * cols * bits / 8));
        parallelRanges(rows, nThreads, [&](int64_t b, int64_t e) {
            std::vector<int> idx(static_cast<size_t>(cols));
            for (int64_t r = b; r < e; ++r) {
                const float* c = table.data() + (r / g) * k;
                for (int64_t j = 0; j < cols; ++j)
                    idx[size_t(j)] = nearestCentroid(c, k, values[size_t(r * cols + j)]);
                packIndices(idx.data(), cols, bits, packed.data() + size_t(r * cols * bits / 8));
            }
        });
        writer.append(packed.data(), packed.size());
        writer.append(table.data(), table.size() * 4);
        if (options.rowScale)
            writer.append(scale.data(), scale.size() * 4);
    }
    writer.finish();
    report.fileBytesAfter = writer.bytesWritten();
    report.tensors = int(count);
    return report;
}

std::vector<int64_t> paletteShape(const GGUFFile& file, const GGUFTensorInfo& indices)
{
    const std::string base = indices.name.substr(0, indices.name.size() - 8);
    const GGUFTensorInfo* table = file.findTensor(base + ".pal_tab");
    if (!table || indices.ne.size() != 2 || indices.type != GGMLType::I8)
        throw FormatError(file.label(), indices.infoOffset, "palette indices '" + indices.name + "' must be I8 [bytes, rows] with a table");
    const int bits = bitsOfTable(file, *table);
    return {indices.ne[0] * 8 / bits, indices.ne[1]};
}

Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>
decodePaletteTensor(const GGUFFile& file, const GGUFTensorInfo& indices, const GGUFTensorInfo& table)
{
    const int bits = bitsOfTable(file, table);
    const std::vector<int64_t> ne = paletteShape(file, indices);
    const int64_t cols = ne[0], rows = ne[1], groups = table.ne[1];
    if (rows % groups != 0)
        throw FormatError(file.label(), table.infoOffset, "palette table '" + table.name + "' has " + std::to_string(groups) +
                                                              " groups, which do not divide " + std::to_string(rows) + " rows");
    const float* tab = reinterpret_cast<const float*>(table.data);
    const GGUFTensorInfo* sc = file.findTensor(indices.name.substr(0, indices.name.size() - 8) + ".pal_scale");
    if (sc && (sc->type != GGMLType::F32 || sc->ne.size() != 1 || sc->ne[0] != ne[1]))
        throw FormatError(file.label(), sc->infoOffset, "palette row scales '" + sc->name + "' must be F32 [rows]");
    const float* rowScale = sc ? reinterpret_cast<const float*>(sc->data) : nullptr;
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(rows, cols);
    const size_t rowBytesIdx = size_t(indices.ne[0]);
    for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* idx = indices.data + size_t(r) * rowBytesIdx;
        const float* p = tab + (r / (rows / groups)) * (int64_t(1) << bits);
        for (int64_t j = 0; j < cols; ++j)
            m(r, j) = p[paletteIndex(idx, bits, j)] * (rowScale ? rowScale[r] : 1.0f);
    }
    return m;
}

} // namespace tenfold
