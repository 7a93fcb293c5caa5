// GGUFWriter: GGUF v3 output with the layout other GGUF tools produce (header, tensor infos,
// padding to the alignment, then each tensor's data padded to the alignment), so a file read and
// written back unchanged is byte-identical to what those tools wrote.
#include "gguf/gguf_cursor.h"
#include "gguf/gguf_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tenfold {

namespace {

constexpr uint32_t kWriteVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8; // the reader's cap; deeper arrays would make an unreadable file

// Collects the small header fields; tensor data bypass it.
class ByteBuffer {
public:
    std::vector<uint8_t> bytes;
    void raw(const void* p, size_t n)
    {
        // resize + memcpy rather than insert: GCC 12 misreports small inserts as overflows.
        const size_t at = bytes.size();
        bytes.resize(at + n);
        if (n)
            std::memcpy(bytes.data() + at, p, n);
    }
    template <class T>
    void put(T v) { raw(&v, sizeof v); }
    void str(const std::string& s)
    {
        put<uint64_t>(s.size());
        raw(s.data(), s.size());
    }
};

void encodeValue(ByteBuffer& out, const GGUFValue& v, int depth)
{
    switch (v.type()) {
    case GGUFValueType::UInt8: out.put(uint8_t(v.toUInt())); break;
    case GGUFValueType::Int8: out.put(int8_t(v.toInt())); break;
    case GGUFValueType::UInt16: out.put(uint16_t(v.toUInt())); break;
    case GGUFValueType::Int16: out.put(int16_t(v.toInt())); break;
    case GGUFValueType::UInt32: out.put(uint32_t(v.toUInt())); break;
    case GGUFValueType::Int32: out.put(int32_t(v.toInt())); break;
    case GGUFValueType::UInt64: out.put(uint64_t(v.toUInt())); break;
    case GGUFValueType::Int64: out.put(int64_t(v.toInt())); break;
    case GGUFValueType::Float32: out.put(float(v.toDouble())); break;
    case GGUFValueType::Float64: out.put(double(v.toDouble())); break;
    case GGUFValueType::Bool: out.put(uint8_t(v.toBool() ? 1 : 0)); break;
    case GGUFValueType::String: out.str(v.toString()); break;
    case GGUFValueType::Array:
        if (depth >= kMaxArrayDepth)
            throw InvalidArgument("GGUF arrays nested more than " + std::to_string(kMaxArrayDepth) +
                                  " deep cannot be written");
        out.put(uint32_t(v.arrayType()));
        out.put(uint64_t(v.items().size()));
        for (const GGUFValue& item : v.items())
            encodeValue(out, item, depth + 1);
        break;
    }
}

void checkAlignmentValue(const GGUFValue& v)
{
    if (!v.isInteger())
        throw InvalidArgument(std::string("general.alignment must be an integer, not ") +
                              ggufValueTypeName(v.type()));
    const uint64_t a = v.toDouble() > 0 ? v.toUInt() : 0;
    if (a == 0 || (a & (a - 1)) != 0)
        throw InvalidArgument("general.alignment " + v.describe() + " is not a non-zero power of two");
}

// Writes everything or throws IoError naming the file: a short write (disk full) is an error too.
class FileSink {
public:
    FileSink(int fd, const std::string& path) : fd_(fd), path_(path) {}
    void write(const void* p, size_t n)
    {
        const auto* c = static_cast<const uint8_t*>(p);
        while (n > 0) {
            const ssize_t w = ::write(fd_, c, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                throw IoError("writing '" + path_ + "' failed: " +
                              (w < 0 ? std::strerror(errno) : "no space written"));
            c += w;
            n -= size_t(w);
        }
    }

private:
    int fd_;
    const std::string& path_;
};

class VectorSink {
public:
    std::vector<uint8_t> bytes;
    void write(const void* p, size_t n)
    {
        // resize + memcpy rather than insert: GCC 12 misreports small inserts as overflows.
        const size_t at = bytes.size();
        bytes.resize(at + n);
        if (n)
            std::memcpy(bytes.data() + at, p, n);
    }
};

} // namespace

void GGUFWriter::set(std::string key, GGUFValue value)
{
    if (key.empty())
        throw InvalidArgument("GGUF metadata key must not be empty");
    if (key == "general.alignment")
        checkAlignmentValue(value);
    for (auto& kv : metadata_)
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    metadata_.emplace_back(std::move(key), std::move(value));
}

void GGUFWriter::remove(std::string_view key)
{
    std::erase_if(metadata_, [&](const auto& kv) { return kv.first == key; });
}

void GGUFWriter::addTensor(std::string name, GGMLType type, std::vector<int64_t> ne, const void* data,
                           uint64_t nbytes)
{
    if (name.empty())
        throw InvalidArgument("GGUF tensor name must not be empty");
    for (const auto& t : tensors_)
        if (t.name == name)
            throw InvalidArgument("GGUF tensor '" + name + "' added twice");
    if (ne.empty() || ne.size() > 4)
        throw InvalidArgument("GGUF tensor '" + name + "' has " + std::to_string(ne.size()) +
                              " dimensions (1 to 4 allowed)");
    uint64_t rows = 1;
    for (size_t i = 0; i < ne.size(); ++i) {
        if (ne[i] < 1)
            throw InvalidArgument("GGUF tensor '" + name + "' has dimension " + std::to_string(i) +
                                  " = " + std::to_string(ne[i]) + " (must be at least 1)");
        if (i > 0 && !gguf_detail::checkedMul(rows, uint64_t(ne[i]), rows))
            throw InvalidArgument("GGUF tensor '" + name + "' is too large");
    }
    uint64_t expected = 0;
    if (!gguf_detail::checkedMul(rowBytes(type, ne[0]), rows, expected)) // rowBytes checks the block size
        throw InvalidArgument("GGUF tensor '" + name + "' is too large");
    if (nbytes != expected)
        throw InvalidArgument("GGUF tensor '" + name + "' has " + std::to_string(nbytes) +
                              " bytes of data; its shape and type need " + std::to_string(expected));
    if (!data)
        throw InvalidArgument("GGUF tensor '" + name + "' has no data");
    tensors_.push_back(PendingTensor{std::move(name), type, std::move(ne), data, nbytes});
}

void GGUFWriter::copyMetadata(const GGUFFile& src)
{
    for (const auto& [key, value] : src.metadata())
        set(key, value);
}

uint64_t GGUFWriter::alignmentValue() const
{
    for (const auto& kv : metadata_)
        if (kv.first == "general.alignment")
            return kv.second.toUInt(); // validated by set()
    return kDefaultAlignment;
}

namespace {

// The one place that lays the file out; both write() and toBytes() go through it.
template <class Sink, class Tensors>
void emitFile(Sink& sink, const std::vector<std::pair<std::string, GGUFValue>>& metadata,
              const Tensors& tensors, uint64_t alignment)
{
    ByteBuffer head;
    head.raw("GGUF", 4);
    head.put(kWriteVersion);
    head.put(uint64_t(tensors.size()));
    head.put(uint64_t(metadata.size()));
    for (const auto& [key, value] : metadata) {
        head.str(key);
        head.put(uint32_t(value.type()));
        encodeValue(head, value, 0);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        head.str(t.name);
        head.put(uint32_t(t.ne.size()));
        for (int64_t d : t.ne)
            head.put(uint64_t(d));
        head.put(uint32_t(t.type));
        head.put(offset);
        if (!gguf_detail::alignUp(offset + t.nbytes, alignment, offset))
            throw InvalidArgument("GGUF tensor data too large");
    }
    // Files without tensors end right after the header, as other tools write them.
    static const uint8_t zeros[4096] = {};
    auto pad = [&](uint64_t written) {
        uint64_t n = (alignment - written % alignment) % alignment;
        while (n > 0) {
            const size_t chunk = size_t(std::min<uint64_t>(n, sizeof zeros));
            sink.write(zeros, chunk);
            n -= chunk;
        }
    };
    sink.write(head.bytes.data(), head.bytes.size());
    if (tensors.empty())
        return;
    pad(head.bytes.size());
    for (const auto& t : tensors) {
        sink.write(t.data, size_t(t.nbytes));
        pad(t.nbytes);
    }
}

} // namespace

std::vector<uint8_t> GGUFWriter::toBytes() const
{
    VectorSink sink;
    emitFile(sink, metadata_, tensors_, alignmentValue());
    return std::move(sink.bytes);
}

void GGUFWriter::write(const std::filesystem::path& path) const
{
    const std::string target = path.string();
    std::string tmp = target + ".tmp-XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        throw IoError("cannot create '" + tmp + "' to write '" + target + "': " + std::strerror(errno));
    auto failAndClean = [&](const std::string& message, bool closeFd) {
        if (closeFd)
            ::close(fd);
        ::unlink(tmp.c_str());
        throw IoError(message);
    };
    try {
        ::fchmod(fd, 0644); // mkstemp makes 0600; a model file is normally world-readable
        FileSink sink(fd, target);
        emitFile(sink, metadata_, tensors_, alignmentValue());
    } catch (const IoError& e) {
        failAndClean(e.what(), true);
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    // fsync before rename: after a crash the final name holds either the old file or the whole
    // new one, never a prefix.
    if (::fsync(fd) != 0)
        failAndClean("flushing '" + target + "' to disk failed: " + std::strerror(errno), true);
    if (::close(fd) != 0)
        failAndClean("closing '" + target + "' failed: " + std::strerror(errno), false);
    if (::rename(tmp.c_str(), target.c_str()) != 0)
        failAndClean("renaming '" + tmp + "' to '" + target + "' failed: " + std::strerror(errno), false);
    // Make the rename itself durable; a failure here leaves a complete file, so it is not reported.
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

} // namespace tenfold
