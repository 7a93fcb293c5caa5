#include "passes/export_standard.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "passes/gguf_stream_writer.h"
#include "passes/palette.h"
#include "passes/parallel_rows.h"
#include "passes/quantize_model.h"
#include "passes/row_convert.h"

#include <Eigen/Dense>

#include <algorithm>

namespace tenfold {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

RowMatrix toFloat(const GGUFTensorInfo& t)
{
    RowMatrix m(t.rows(), t.ne[0]);
    const size_t rb = rowBytes(t.type, t.ne[0]);
    for (int64_t r = 0; r < t.rows(); ++r)
        rowToFloat(t.type, t.data + size_t(r) * rb, m.row(r).data(), t.ne[0]);
    return m;
}

bool endsWith(const std::string& s, const std::string& suffix) { return s.ends_with(suffix); }

} // namespace

ExportReport exportStandard(const std::filesystem::path& in, const std::filesystem::path& out, GGMLType target,
                            int nThreads)
{
    if (!typeTraits(target).weightType)
        throw UnsupportedError(std::string(typeName(target)) + " holds activations only and cannot be a model's weight type");
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in, out, ec))
        throw InvalidArgument("input and output are the same file: " + in.string());
    const std::shared_ptr<GGUFFile> src = GGUFFile::open(in);
    nThreads = resolveThreadCount(nThreads);
    ExportReport report;
    report.fileBytesBefore = src->fileSize();

    // What each output tensor is made from.
    struct Source {
        std::string name;
        std::vector<int64_t> ne;
        const GGUFTensorInfo* plain = nullptr;
        const GGUFTensorInfo* a = nullptr; // low-rank factors
        const GGUFTensorInfo* b = nullptr;
        const GGUFTensorInfo* indices = nullptr; // palette: NAME.pal_idx + NAME.pal_tab
        const GGUFTensorInfo* table = nullptr;
    };
    std::vector<Source> sources;
    for (const GGUFTensorInfo& t : src->tensors()) {
        const std::string& n = t.name;
        if (endsWith(n, ".lr_b") || endsWith(n, ".pal_tab") || endsWith(n, ".pal_scale"))
            continue; // taken with its partner
        Source s;
        if (endsWith(n, ".lr_a")) {
            s.name = n.substr(0, n.size() - 5);
            s.a = &t;
            s.b = src->findTensor(s.name + ".lr_b");
            if (!s.b || t.ne.size() != 2 || s.b->ne.size() != 2 || t.ne[0] != s.b->ne[1])
                throw FormatError(src->label(), t.infoOffset,
                                  "low-rank factor '" + n + "' has no matching '" + s.name + ".lr_b' [in, " +
                                      std::to_string(t.ne.empty() ? 0 : t.ne[0]) + "]");
            s.ne = {s.b->ne[0], t.ne[1]};
        } else if (endsWith(n, ".pal_idx")) {
            s.name = n.substr(0, n.size() - 8);
            s.indices = &t;
            s.table = src->findTensor(s.name + ".pal_tab");
            if (!s.table)
                throw FormatError(src->label(), t.infoOffset, "palette indices '" + n + "' have no '" + s.name + ".pal_tab'");
            s.ne = paletteShape(*src, t);
        } else {
            s.name = n;
            s.plain = &t;
            s.ne = t.ne;
        }
        sources.push_back(std::move(s));
    }
    // Every leftover second half must have been claimed by a first half.
    for (const GGUFTensorInfo& t : src->tensors()) {
        if (endsWith(t.name, ".lr_b") && !src->findTensor(t.name.substr(0, t.name.size() - 5) + ".lr_a"))
            throw FormatError(src->label(), t.infoOffset, "low-rank factor '" + t.name + "' has no matching .lr_a");
        if (endsWith(t.name, ".pal_scale") && !src->findTensor(t.name.substr(0, t.name.size() - 10) + ".pal_idx"))
            throw FormatError(src->label(), t.infoOffset, "palette row scales '" + t.name + "' have no matching .pal_idx");
        if (endsWith(t.name, ".pal_tab") && !src->findTensor(t.name.substr(0, t.name.size() - 8) + ".pal_idx"))
            throw FormatError(src->label(), t.infoOffset, "palette table '" + t.name + "' has no matching .pal_idx");
    }

    auto metadata = quantizedMetadata(*src, target);
    std::erase_if(metadata, [](const auto& kv) {
        return kv.first.rfind("tenfold.low_rank.", 0) == 0 || kv.first.rfind("tenfold.palette.", 0) == 0;
    });
    std::vector<StreamTensorSpec> specs;
    for (const Source& s : sources)
        specs.push_back({s.name, chooseTensorType(s.ne, target), s.ne});
    GGUFStreamWriter writer(out, metadata, specs);
    QuantizeOptions qo;
    for (size_t i = 0; i < sources.size(); ++i) {
        const Source& s = sources[i];
        const GGMLType to = specs[i].type;
        auto sink = [&writer](const uint8_t* data, size_t n) { writer.append(data, n); };
        if (s.plain) {
            quantizeTensor(*s.plain, to, QuantMethod::Rtn, qo, nThreads, sink);
            continue;
        }
        RowMatrix w;
        if (s.a) {
            w = toFloat(*s.a) * toFloat(*s.b); // [out x r] [r x in]
            ++report.factorisedMerged;
        } else {
            w = decodePaletteTensor(*src, *s.indices, *s.table);
            ++report.palettesDecoded;
        }
        const int64_t rows = w.rows(), cols = w.cols();
        const size_t rb = rowBytes(to, cols);
        std::vector<uint8_t> bytes(size_t(rows) * rb);
        parallelRanges(rows, nThreads, [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r)
                rowFromFloat(to, w.row(r).data(), bytes.data() + size_t(r) * rb, cols);
        });
        writer.append(bytes.data(), bytes.size());
    }
    writer.finish();
    report.fileBytesAfter = writer.bytesWritten();
    return report;
}

} // namespace tenfold
