// GGUFWriter: GGUF v3 output with the layout other GGUF tools produce (header, tensor infos,
// padding to the alignment, then each tensor's data padded to the alignment), so a file read and
// written back unchanged is byte-identical to what those tools wrote.
#include "gguf/gguf_cursor.h"
#include "gguf/gguf_encode.h"
#include "gguf/gguf_file.h"

#include <algorithm>
#include <cstring>

namespace tenfold {

namespace {

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
        ggufAlignment({{key, value}}); // throws InvalidArgument when it is not a power of two
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
    return kGGUFDefaultAlignment;
}

namespace {

// Header from the shared encoder, then each tensor's data padded to the alignment. Files without
// tensors end right after the header, as other tools write them.
template <class Sink, class Tensors>
void emitFile(Sink& sink, const std::vector<std::pair<std::string, GGUFValue>>& metadata,
              const Tensors& tensors, uint64_t alignment)
{
    std::vector<GGUFTensorLayout> layout;
    layout.reserve(tensors.size());
    for (const auto& t : tensors)
        layout.push_back(GGUFTensorLayout{t.name, t.type, t.ne, t.nbytes});
    const std::vector<uint8_t> head = encodeGGUFHeader(metadata, layout, alignment);
    static const uint8_t zeros[4096] = {};
    auto pad = [&](uint64_t written) {
        uint64_t n = (alignment - written % alignment) % alignment;
        while (n > 0) {
            const size_t chunk = size_t(std::min<uint64_t>(n, sizeof zeros));
            sink.write(zeros, chunk);
            n -= chunk;
        }
    };
    sink.write(head.data(), head.size());
    if (tensors.empty())
        return;
    pad(head.size());
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
    AtomicFileWriter file(path); // removes its temporary file if anything below throws
    emitFile(file, metadata_, tensors_, alignmentValue());
    file.commit();
}

} // namespace tenfold
