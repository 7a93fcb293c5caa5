#include "passes/quantize_model.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "passes/gguf_stream_writer.h"
#include "passes/gptq.h"
#include "passes/imatrix.h"
#include "passes/parallel_rows.h"
#include "passes/row_convert.h"
#include "tensor/quant_grid.h"
#include "tensor/quant_iq4.h"

#include <algorithm>
#include <cstring>

namespace tenfold {

GGMLType chooseTensorType(const std::vector<int64_t>& ne, GGMLType target)
{
    if (ne.size() < 2)
        return GGMLType::F32;
    const int64_t rowLength = ne[0];
    auto fits = [rowLength](GGMLType t) { return rowLength % typeTraits(t).blockSize == 0; };
    if (fits(target))
        return target;
    GGMLType fallback = GGMLType::F16;
    switch (target) {
    case GGMLType::Q2_K:
    case GGMLType::Q3_K: fallback = GGMLType::IQ4_NL; break;
    case GGMLType::Q4_K: fallback = GGMLType::Q5_0; break;
    case GGMLType::Q5_K: fallback = GGMLType::Q5_1; break;
    case GGMLType::Q6_K: fallback = GGMLType::Q8_0; break;
    case GGMLType::IQ4_XS: fallback = GGMLType::IQ4_NL; break;
    default: break;
    }
    return fits(fallback) ? fallback : GGMLType::F16;
}

uint32_t fileTypeFor(GGMLType t)
{
    // llama_ftype numbering; a uniform K-quant is the "_S" (small) variant of each mix.
    switch (t) {
    case GGMLType::F32: return 0;
    case GGMLType::F16: return 1;
    case GGMLType::Q4_0: return 2;
    case GGMLType::Q4_1: return 3;
    case GGMLType::Q8_0: return 7;
    case GGMLType::Q5_0: return 8;
    case GGMLType::Q5_1: return 9;
    case GGMLType::Q2_K: return 10;
    case GGMLType::Q3_K: return 11;
    case GGMLType::Q4_K: return 14;
    case GGMLType::Q5_K: return 16;
    case GGMLType::Q6_K: return 18;
    case GGMLType::IQ4_NL: return 25;
    case GGMLType::IQ4_XS: return 30;
    case GGMLType::BF16: return 32;
    default: break;
    }
    throw UnsupportedError(std::string("no model file type for ") + typeName(t));
}

const char* methodName(QuantMethod m)
{
    switch (m) {
    case QuantMethod::Rtn: return "rtn";
    case QuantMethod::Imatrix: return "imatrix";
    case QuantMethod::Gptq: return "gptq";
    }
    return "?";
}

QuantMethod methodFor(const QuantizeOptions& o, const GGUFTensorInfo& t, GGMLType to)
{
    const bool iq4xs = to == GGMLType::IQ4_XS; // weighted search only (its 6-bit sub-scales are no 32-block grid)
    if (o.method == QuantMethod::Rtn || t.ne.size() < 2 || (!quant::hasWeightedSearch(to) && !iq4xs))
        return QuantMethod::Rtn;
    if (iq4xs || !quant::hasGroupGrid(to)) // K-quants: the weighted search, not GPTQ
        return QuantMethod::Imatrix;
    if (o.method == QuantMethod::Gptq && o.hessians) {
        const Eigen::MatrixXd* h = o.hessians->find(t.name);
        if (h && h->rows() == t.ne[0])
            return QuantMethod::Gptq;
    }
    return QuantMethod::Imatrix;
}

void quantizeTensor(const GGUFTensorInfo& t, GGMLType to, QuantMethod method, const QuantizeOptions& options,
                    int nThreads, const std::function<void(const uint8_t*, size_t)>& sink)
{
    if (to == t.type) { // nothing to convert: copy as is, never re-round
        sink(t.data, t.nbytes);
        return;
    }
    std::vector<uint8_t> chunk;
    const int64_t rowLength = t.ne[0];
    const int64_t rows = t.rows();
    const size_t inRow = rowBytes(t.type, rowLength), outRow = rowBytes(to, rowLength);
    if (method == QuantMethod::Gptq) {
        // GPTQ moves error across a whole row's columns: the tensor is held in floats at once.
        std::vector<float> all(size_t(rows * rowLength));
        parallelRanges(rows, nThreads, [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r)
                rowToFloat(t.type, t.data + size_t(r) * inRow, all.data() + size_t(r * rowLength), rowLength);
        });
        chunk.resize(size_t(rows) * outRow);
        gptqQuantizeTensor(to, all.data(), rows, rowLength, *options.hessians->find(t.name), chunk.data(),
                           nThreads, options.gptqDamp);
        sink(chunk.data(), chunk.size());
        return;
    }
    std::vector<float> importance;
    if (method == QuantMethod::Imatrix) {
        if (options.imatrix)
            importance = options.imatrix->columnWeights(t.name);
        if (!importance.empty() && int64_t(importance.size()) != rowLength)
            throw InvalidArgument("the importance matrix has " + std::to_string(importance.size()) +
                                  " columns for " + t.name + ", which has " + std::to_string(rowLength) +
                                  " (made for another model?)");
        if (importance.empty() && options.hessians)
            if (const Eigen::MatrixXd* h = options.hessians->find(t.name); h && h->rows() == rowLength)
                for (int64_t j = 0; j < rowLength; ++j)
                    importance.push_back(float((*h)(j, j)));
    }
    const int64_t perChunk = rowsPerChunk(outRow);
    for (int64_t r0 = 0; r0 < rows; r0 += perChunk) {
        const int64_t n = std::min(perChunk, rows - r0);
        chunk.resize(size_t(n) * outRow);
        parallelRanges(n, nThreads, [&](int64_t begin, int64_t end) {
            std::vector<float> row(static_cast<size_t>(rowLength));
            for (int64_t r = begin; r < end; ++r) {
                rowToFloat(t.type, t.data + size_t(r0 + r) * inRow, row.data(), rowLength);
                if (method == QuantMethod::Imatrix && (to == GGMLType::IQ4_NL || to == GGMLType::IQ4_XS))
                    quant::quantizeIQ4RowWeighted(to, row.data(), chunk.data() + size_t(r) * outRow, rowLength,
                                                  importance.empty() ? nullptr : importance.data());
                else if (method == QuantMethod::Imatrix)
                    quant::quantizeRowWeighted(to, row.data(), chunk.data() + size_t(r) * outRow, rowLength,
                                               importance.empty() ? nullptr : importance.data());
                else
                    rowFromFloat(to, row.data(), chunk.data() + size_t(r) * outRow, rowLength);
            }
        });
        sink(chunk.data(), chunk.size());
    }
}

std::vector<std::pair<std::string, GGUFValue>> quantizedMetadata(const GGUFFile& src, GGMLType target,
                                                                 std::optional<uint32_t> fileType)
{
    std::vector<std::pair<std::string, GGUFValue>> metadata = src.metadata();
    auto setKey = [&metadata](const std::string& key, GGUFValue value) {
        auto it = std::find_if(metadata.begin(), metadata.end(),
                               [&key](const auto& kv) { return kv.first == key; });
        if (it != metadata.end())
            it->second = std::move(value);
        else
            metadata.emplace_back(key, std::move(value));
    };
    setKey("general.file_type", GGUFValue::u32(fileType.value_or(fileTypeFor(target))));
    // Other GGUF tools read the block layout version from here (2: the current layouts).
    if (typeTraits(target).quantized)
        setKey("general.quantization_version", GGUFValue::u32(2));
    return metadata;
}

QuantizeReport quantizeModel(const std::filesystem::path& in, const std::filesystem::path& out,
                             const QuantizeOptions& options)
{
    for (GGMLType t : {options.target, options.outputType.value_or(options.target)})
        if (!typeTraits(t).weightType)
            throw UnsupportedError(std::string(typeName(t)) +
                                   " holds activations only and cannot be a model's weight type");
    if (options.method == QuantMethod::Gptq && !options.hessians)
        throw InvalidArgument("GPTQ needs calibration statistics (a calibration text)");
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in, out, ec))
        throw InvalidArgument("input and output are the same file: " + in.string());

    const std::shared_ptr<GGUFFile> src = GGUFFile::open(in);
    const int nThreads = resolveThreadCount(options.nThreads);

    const std::vector<std::pair<std::string, GGUFValue>> metadata = quantizedMetadata(*src, options.target, options.fileType);

    QuantizeReport report;
    report.fileBytesBefore = src->fileSize();
    const std::string outputName =
        src->findTensor("output.weight") ? "output.weight" : "token_embd.weight";
    std::vector<StreamTensorSpec> specs;
    for (const GGUFTensorInfo& t : src->tensors()) {
        GGMLType wanted = options.outputType && t.name == outputName ? *options.outputType : options.target;
        if (auto it = options.tensorTypes.find(t.name); it != options.tensorTypes.end())
            wanted = it->second;
        StreamTensorSpec spec{t.name, chooseTensorType(t.ne, wanted), t.ne};
        report.tensors.push_back({t.name, t.type, spec.type, methodFor(options, t, spec.type), t.nbytes,
                                  spec.nbytes()});
        specs.push_back(std::move(spec));
    }

    GGUFStreamWriter writer(out, metadata, specs);
    for (size_t i = 0; i < src->tensors().size(); ++i) {
        const GGUFTensorInfo& t = src->tensors()[i];
        const GGMLType to = specs[i].type;
        if (options.onTensor)
            options.onTensor(i, specs.size(), t.name, to);
        quantizeTensor(t, to, report.tensors[i].method, options, nThreads,
                       [&writer](const uint8_t* data, size_t n) { writer.append(data, n); });
    }
    writer.finish();
    report.fileBytesAfter = writer.bytesWritten();
    return report;
}

} // namespace tenfold
