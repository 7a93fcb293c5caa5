// The shared GGUF v3 encoder and the atomic temporary-file writer (see gguf_encode.h).
#include "gguf/gguf_encode.h"

#include "core/error.h"
#include "gguf/gguf_cursor.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include "core/platform.h"

namespace tenfold {

namespace {

constexpr uint32_t kWriteVersion = 3;
constexpr size_t kBufferBytes = size_t(1) << 20;

void raw(std::vector<uint8_t>& out, const void* p, size_t n)
{
    // resize + memcpy rather than insert: GCC 12 misreports small inserts as overflows.
    const size_t at = out.size();
    out.resize(at + n);
    if (n)
        std::memcpy(out.data() + at, p, n);
}

template <class T>
void put(std::vector<uint8_t>& out, T v)
{
    raw(out, &v, sizeof v);
}

void putString(std::vector<uint8_t>& out, const std::string& s)
{
    put<uint64_t>(out, s.size());
    raw(out, s.data(), s.size());
}

void encodeValueAt(std::vector<uint8_t>& out, const GGUFValue& v, int depth)
{
    switch (v.type()) {
    case GGUFValueType::UInt8: put(out, uint8_t(v.toUInt())); break;
    case GGUFValueType::Int8: put(out, int8_t(v.toInt())); break;
    case GGUFValueType::UInt16: put(out, uint16_t(v.toUInt())); break;
    case GGUFValueType::Int16: put(out, int16_t(v.toInt())); break;
    case GGUFValueType::UInt32: put(out, uint32_t(v.toUInt())); break;
    case GGUFValueType::Int32: put(out, int32_t(v.toInt())); break;
    case GGUFValueType::UInt64: put(out, uint64_t(v.toUInt())); break;
    case GGUFValueType::Int64: put(out, int64_t(v.toInt())); break;
    case GGUFValueType::Float32: put(out, float(v.toDouble())); break;
    case GGUFValueType::Float64: put(out, double(v.toDouble())); break;
    case GGUFValueType::Bool: put(out, uint8_t(v.toBool() ? 1 : 0)); break;
    case GGUFValueType::String: putString(out, v.toString()); break;
    case GGUFValueType::Array:
        if (depth >= kGGUFMaxArrayDepth)
            throw InvalidArgument("GGUF arrays nested more than " + std::to_string(kGGUFMaxArrayDepth) +
                                  " deep cannot be written");
        put(out, uint32_t(v.arrayType()));
        put(out, uint64_t(v.items().size()));
        for (const GGUFValue& item : v.items())
            encodeValueAt(out, item, depth + 1);
        break;
    }
}

} // namespace

void encodeGGUFValue(std::vector<uint8_t>& out, const GGUFValue& v) { encodeValueAt(out, v, 0); }

uint64_t ggufAlignment(const std::vector<std::pair<std::string, GGUFValue>>& metadata)
{
    for (const auto& [key, v] : metadata) {
        if (key != "general.alignment")
            continue;
        if (!v.isInteger())
            throw InvalidArgument(std::string("general.alignment must be an integer, not ") +
                                  ggufValueTypeName(v.type()));
        const uint64_t a = v.toDouble() > 0 ? v.toUInt() : 0;
        if (a == 0 || (a & (a - 1)) != 0)
            throw InvalidArgument("general.alignment " + v.describe() +
                                  " is not a non-zero power of two");
        return a;
    }
    return kGGUFDefaultAlignment;
}

std::vector<uint8_t> encodeGGUFHeader(const std::vector<std::pair<std::string, GGUFValue>>& metadata,
                                      const std::vector<GGUFTensorLayout>& tensors,
                                      uint64_t alignment)
{
    std::vector<uint8_t> out;
    raw(out, "GGUF", 4);
    put(out, kWriteVersion);
    put(out, uint64_t(tensors.size()));
    put(out, uint64_t(metadata.size()));
    for (const auto& [key, value] : metadata) {
        putString(out, key);
        put(out, uint32_t(value.type()));
        encodeValueAt(out, value, 0);
    }
    uint64_t offset = 0;
    for (const GGUFTensorLayout& t : tensors) {
        putString(out, t.name);
        put(out, uint32_t(t.ne.size()));
        for (int64_t d : t.ne)
            put(out, uint64_t(d));
        put(out, uint32_t(t.type));
        put(out, offset);
        uint64_t end = 0;
        if (offset > UINT64_MAX - t.nbytes || !gguf_detail::alignUp(offset + t.nbytes, alignment, end))
            throw InvalidArgument("GGUF tensor data too large (at tensor '" + t.name + "')");
        offset = end;
    }
    return out;
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path)
    : path_(std::move(path)), target_(platform::pathToUtf8(path_))
{
    fd_ = platform::createUniqueFile(target_ + ".tmp-", tmp_);
    if (fd_ < 0)
        throw IoError("cannot create a temporary file beside '" + target_ + "' to write it: " +
                      platform::lastErrorText());
    buffer_.reserve(kBufferBytes);
}

AtomicFileWriter::~AtomicFileWriter()
{
    if (committed_)
        return;
    if (fd_ >= 0)
        platform::closeFile(fd_);
    platform::removeFile(tmp_);
}

void AtomicFileWriter::failAndClean(const std::string& message)
{
    if (fd_ >= 0)
        platform::closeFile(fd_);
    fd_ = -1;
    platform::removeFile(tmp_);
    throw IoError(message);
}

void AtomicFileWriter::writeAll(const void* data, size_t n)
{
    const auto* c = static_cast<const uint8_t*>(data);
    while (n > 0) {
        const int64_t w = platform::writeSome(fd_, c, n);
        if (w <= 0)
            failAndClean("writing '" + target_ + "' failed: " +
                         (w < 0 ? platform::lastErrorText() : "no space written"));
        c += w;
        n -= size_t(w);
    }
}

void AtomicFileWriter::flushBuffer()
{
    writeAll(buffer_.data(), buffer_.size());
    buffer_.clear();
}

void AtomicFileWriter::write(const void* data, size_t n)
{
    if (fd_ < 0 || committed_)
        throw IoError("writing '" + target_ + "' after it was closed");
    written_ += n;
    if (buffer_.size() + n <= kBufferBytes) {
        raw(buffer_, data, n);
        return;
    }
    flushBuffer();
    if (n >= kBufferBytes)
        writeAll(data, n); // large chunks bypass the buffer
    else
        raw(buffer_, data, n);
}

void AtomicFileWriter::writeZeros(uint64_t n)
{
    static const uint8_t zeros[4096] = {};
    while (n > 0) {
        const size_t chunk = size_t(std::min<uint64_t>(n, sizeof zeros));
        write(zeros, chunk);
        n -= chunk;
    }
}

void AtomicFileWriter::commit()
{
    if (fd_ < 0 || committed_)
        throw IoError("committing '" + target_ + "' twice or after a failure");
    flushBuffer();
    // fsync before rename: after a crash the final name holds either the old file or the whole
    // new one, never a prefix.
    if (!platform::syncFile(fd_))
        failAndClean("flushing '" + target_ + "' to disk failed: " + platform::lastErrorText());
    const int fd = fd_;
    fd_ = -1;
    if (!platform::closeFile(fd))
        failAndClean("closing '" + target_ + "' failed: " + platform::lastErrorText());
    if (!platform::replaceFile(tmp_, target_))
        failAndClean("renaming '" + tmp_ + "' to '" + target_ + "' failed: " + platform::lastErrorText());
    committed_ = true;
    // Make the rename itself durable; a failure here leaves a complete file, so it is not reported.
    platform::syncDirectory(path_.has_parent_path() ? path_.parent_path() : std::filesystem::path("."));
}

} // namespace tenfold
