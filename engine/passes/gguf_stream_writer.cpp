#include "passes/gguf_stream_writer.h"

#include "core/error.h"

#include <cstring>
#include <system_error>

namespace tenfold {

uint64_t StreamTensorSpec::nbytes() const
{
    if (ne.empty())
        throw InvalidArgument("tensor " + name + " has no dimensions");
    uint64_t rows = 1;
    for (size_t i = 1; i < ne.size(); ++i)
        rows *= uint64_t(ne[i]);
    return rowBytes(type, ne[0]) * rows;
}

namespace {

template <class T>
void put(std::vector<uint8_t>& out, T v)
{
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof v);
}

void putString(std::vector<uint8_t>& out, const std::string& s)
{
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

void putScalar(std::vector<uint8_t>& out, const GGUFValue& v)
{
    switch (v.type()) {
    case GGUFValueType::UInt8: put<uint8_t>(out, uint8_t(v.toUInt())); break;
    case GGUFValueType::Int8: put<int8_t>(out, int8_t(v.toInt())); break;
    case GGUFValueType::UInt16: put<uint16_t>(out, uint16_t(v.toUInt())); break;
    case GGUFValueType::Int16: put<int16_t>(out, int16_t(v.toInt())); break;
    case GGUFValueType::UInt32: put<uint32_t>(out, uint32_t(v.toUInt())); break;
    case GGUFValueType::Int32: put<int32_t>(out, int32_t(v.toInt())); break;
    case GGUFValueType::UInt64: put<uint64_t>(out, v.toUInt()); break;
    case GGUFValueType::Int64: put<int64_t>(out, v.toInt()); break;
    case GGUFValueType::Float32: put<float>(out, float(v.toDouble())); break;
    case GGUFValueType::Float64: put<double>(out, v.toDouble()); break;
    case GGUFValueType::Bool: put<uint8_t>(out, v.toBool() ? 1 : 0); break;
    case GGUFValueType::String: putString(out, v.toString()); break;
    case GGUFValueType::Array: break; // handled by the caller
    }
}

} // namespace

void appendGGUFValuePayload(std::vector<uint8_t>& out, const GGUFValue& v)
{
    if (!v.isArray()) {
        putScalar(out, v);
        return;
    }
    put<uint32_t>(out, uint32_t(v.arrayType()));
    put<uint64_t>(out, v.items().size());
    for (const GGUFValue& item : v.items())
        appendGGUFValuePayload(out, item);
}

GGUFStreamWriter::GGUFStreamWriter(std::filesystem::path path,
                                   const std::vector<std::pair<std::string, GGUFValue>>& metadata,
                                   std::vector<StreamTensorSpec> tensors)
    : path_(std::move(path)), tensors_(std::move(tensors))
{
    for (const auto& [key, value] : metadata)
        if (key == "general.alignment") {
            alignment_ = value.toUInt();
            if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
                throw InvalidArgument("general.alignment must be a power of two, not " +
                                      std::to_string(alignment_));
        }

    std::vector<uint8_t> header;
    put<uint32_t>(header, 0x46554747u); // "GGUF"
    put<uint32_t>(header, 3);
    put<uint64_t>(header, tensors_.size());
    put<uint64_t>(header, metadata.size());
    for (const auto& [key, value] : metadata) {
        putString(header, key);
        put<uint32_t>(header, uint32_t(value.type()));
        appendGGUFValuePayload(header, value);
    }
    uint64_t offset = 0;
    for (const StreamTensorSpec& t : tensors_) {
        putString(header, t.name);
        put<uint32_t>(header, uint32_t(t.ne.size()));
        for (int64_t d : t.ne)
            put<uint64_t>(header, uint64_t(d));
        put<uint32_t>(header, uint32_t(t.type));
        put<uint64_t>(header, offset);
        offset += t.nbytes();
        offset = (offset + alignment_ - 1) / alignment_ * alignment_;
    }

    tmpPath_ = path_;
    tmpPath_ += ".partial";
    file_ = std::fopen(tmpPath_.c_str(), "wb");
    if (!file_)
        throw IoError("cannot create " + tmpPath_.string() + ": " + std::strerror(errno));
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    writeRaw(header.data(), header.size());
    pad(alignment_);
}

GGUFStreamWriter::~GGUFStreamWriter()
{
    if (file_)
        std::fclose(file_);
    if (!finished_) {
        std::error_code ec;
        std::filesystem::remove(tmpPath_, ec);
    }
}

void GGUFStreamWriter::writeRaw(const void* data, size_t n)
{
    if (n && std::fwrite(data, 1, n, file_) != n)
        throw IoError("writing " + tmpPath_.string() + " failed: " + std::strerror(errno));
    written_ += n;
}

void GGUFStreamWriter::pad(uint64_t alignment)
{
    static const uint8_t zeros[64] = {};
    uint64_t rest = (alignment - written_ % alignment) % alignment;
    while (rest) {
        const size_t n = size_t(std::min<uint64_t>(rest, sizeof zeros));
        writeRaw(zeros, n);
        rest -= n;
    }
}

void GGUFStreamWriter::append(const void* data, size_t nbytes)
{
    const auto* p = static_cast<const uint8_t*>(data);
    while (nbytes) {
        if (current_ >= tensors_.size())
            throw InvalidArgument("more tensor data than the " + std::to_string(tensors_.size()) +
                                  " declared tensors hold");
        const uint64_t need = tensors_[current_].nbytes() - currentFilled_;
        const size_t n = size_t(std::min<uint64_t>(need, nbytes));
        writeRaw(p, n);
        p += n;
        nbytes -= n;
        currentFilled_ += n;
        if (currentFilled_ == tensors_[current_].nbytes()) {
            pad(alignment_);
            ++current_;
            currentFilled_ = 0;
        }
    }
}

void GGUFStreamWriter::finish()
{
    // Zero-byte tensors complete without any append.
    while (current_ < tensors_.size() && tensors_[current_].nbytes() == 0)
        ++current_;
    if (current_ != tensors_.size())
        throw InvalidArgument("tensor " + tensors_[current_].name + " got " +
                              std::to_string(currentFilled_) + " of its " +
                              std::to_string(tensors_[current_].nbytes()) + " bytes");
    if (std::fflush(file_) != 0 || std::fclose(file_) != 0) {
        file_ = nullptr;
        throw IoError("writing " + tmpPath_.string() + " failed: " + std::strerror(errno));
    }
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::rename(tmpPath_, path_, ec);
    if (ec)
        throw IoError("cannot rename " + tmpPath_.string() + " to " + path_.string() + ": " +
                      ec.message());
    finished_ = true;
}

} // namespace tenfold
