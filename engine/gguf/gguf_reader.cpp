// GGUFFile::parse: the header, metadata and tensor-info walk, with every field validated.
//
// Layout (all little-endian):
//   "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x { string key | u32 value_type | value }
//   tensor_count x { string name | u32 n_dims | n_dims x u64 ne | u32 ggml_type | u64 offset }
//   padding to general.alignment | tensor data (offsets relative to here)
//
// Rules this reader enforces (a violation is a FormatError at the offending field):
//   - version 2 or 3; version 1 (32-bit counts) is refused, as is a byte-swapped (big-endian) file;
//   - counts and lengths must fit in the bytes that remain, checked before anything is reserved,
//     using the smallest encoding of one element, so memory never grows with a lying header;
//   - metadata keys and tensor names are non-empty and unique;
//   - bool values are 0 or 1; arrays nest at most kMaxArrayDepth deep;
//   - general.alignment, when present, is an integer that is a non-zero power of two;
//   - a tensor has 1..4 dimensions, each >= 1 (an empty tensor has no use in a model file and is
//     refused rather than given a zero-byte view), element count and byte size fit in 63 bits,
//     ne[0] is a multiple of the type's block size, the type id is one this build knows;
//   - tensor offsets are multiples of the alignment, data lie inside the file, and no two tensors
//     share a byte. Offsets are relative to the aligned data section, which starts after the
//     header, so tensor data cannot overlap the header.
#include "gguf/gguf_cursor.h"
#include "gguf/gguf_file.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace tenfold {

using gguf_detail::Cursor;

namespace {

constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kDefaultAlignment = 32;
// Smallest possible encodings, used to reject counts that cannot fit before reserving memory.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;       // empty-length key (refused later), type, u8
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8; // name length, n_dims, one dim, type, offset

bool validValueType(uint32_t raw) { return raw <= uint32_t(GGUFValueType::Float64); }

uint64_t minEncodedBytes(GGUFValueType t)
{
    switch (t) {
    case GGUFValueType::UInt8:
    case GGUFValueType::Int8:
    case GGUFValueType::Bool: return 1;
    case GGUFValueType::UInt16:
    case GGUFValueType::Int16: return 2;
    case GGUFValueType::UInt32:
    case GGUFValueType::Int32:
    case GGUFValueType::Float32: return 4;
    case GGUFValueType::UInt64:
    case GGUFValueType::Int64:
    case GGUFValueType::Float64:
    case GGUFValueType::String: return 8;   // a string is at least its length field
    case GGUFValueType::Array: return 4 + 8; // element type and count
    }
    return 1;
}

std::string quote(const std::string& s)
{
    // Names from a hostile file may be long or binary; keep messages readable.
    std::string out = "'";
    for (size_t i = 0; i < s.size() && i < 80; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
    }
    if (s.size() > 80)
        out += "...";
    return out + "'";
}

GGUFValue readValue(Cursor& c, GGUFValueType type, int depth, const std::string& key)
{
    switch (type) {
    case GGUFValueType::UInt8: return GGUFValue::u8(c.read<uint8_t>("a uint8 value"));
    case GGUFValueType::Int8: return GGUFValue::i8(c.read<int8_t>("an int8 value"));
    case GGUFValueType::UInt16: return GGUFValue::u16(c.read<uint16_t>("a uint16 value"));
    case GGUFValueType::Int16: return GGUFValue::i16(c.read<int16_t>("an int16 value"));
    case GGUFValueType::UInt32: return GGUFValue::u32(c.read<uint32_t>("a uint32 value"));
    case GGUFValueType::Int32: return GGUFValue::i32(c.read<int32_t>("an int32 value"));
    case GGUFValueType::UInt64: return GGUFValue::u64(c.read<uint64_t>("a uint64 value"));
    case GGUFValueType::Int64: return GGUFValue::i64(c.read<int64_t>("an int64 value"));
    case GGUFValueType::Float32: return GGUFValue::f32(c.read<float>("a float32 value"));
    case GGUFValueType::Float64: return GGUFValue::f64(c.read<double>("a float64 value"));
    case GGUFValueType::Bool: {
        const uint64_t at = c.pos();
        const uint8_t b = c.read<uint8_t>("a bool value");
        if (b > 1)
            c.fail(at, "bool value " + std::to_string(b) + " of key " + quote(key) + " is not 0 or 1");
        return GGUFValue::boolean(b != 0);
    }
    case GGUFValueType::String: return GGUFValue::string(c.readString("a string value"));
    case GGUFValueType::Array: {
        const uint64_t at = c.pos();
        const uint32_t rawElem = c.read<uint32_t>("an array element type");
        if (!validValueType(rawElem))
            c.fail(at, "unknown array element type " + std::to_string(rawElem) + " in key " + quote(key));
        const auto elem = GGUFValueType(rawElem);
        if (elem == GGUFValueType::Array && depth + 1 >= kMaxArrayDepth)
            c.fail(at, "arrays nested more than " + std::to_string(kMaxArrayDepth) +
                           " deep in key " + quote(key));
        const uint64_t countAt = c.pos();
        const uint64_t count = c.read<uint64_t>("an array length");
        if (count > c.remaining() / minEncodedBytes(elem))
            c.fail(countAt, "array of " + std::to_string(count) + " " + ggufValueTypeName(elem) +
                                " elements in key " + quote(key) + " cannot fit in the " +
                                std::to_string(c.remaining()) + " bytes left");
        std::vector<GGUFValue> items;
        items.reserve(size_t(count));
        for (uint64_t i = 0; i < count; ++i)
            items.push_back(readValue(c, elem, depth + 1, key));
        return GGUFValue::array(elem, std::move(items));
    }
    }
    c.fail(c.pos(), "unknown value type");
}

} // namespace

void GGUFFile::parse()
{
    Cursor c(base_, size_, label_);

    // --- header ---
    c.need(4, "the GGUF magic");
    if (std::memcmp(base_, "GGUF", 4) != 0) {
        char found[32];
        std::snprintf(found, sizeof found, "%02x %02x %02x %02x", base_[0], base_[1], base_[2], base_[3]);
        c.fail(0, std::string("not a GGUF file: magic bytes are ") + found + ", expected \"GGUF\"");
    }
    c.read<uint32_t>("the GGUF magic");
    const uint64_t versionAt = c.pos();
    version_ = c.read<uint32_t>("the GGUF version");
    if (version_ == 1)
        c.fail(versionAt, "GGUF version 1 is not supported (only versions 2 and 3); convert the "
                          "model again with a current tool");
    if (version_ != 2 && version_ != 3) {
        const uint32_t swapped = __builtin_bswap32(version_);
        if (swapped >= 1 && swapped <= 3)
            c.fail(versionAt, "big-endian GGUF files are not supported");
        c.fail(versionAt, "unsupported GGUF version " + std::to_string(version_) +
                              " (this build reads versions 2 and 3)");
    }
    const uint64_t tensorCountAt = c.pos();
    const uint64_t tensorCount = c.read<uint64_t>("the tensor count");
    const uint64_t kvCountAt = c.pos();
    const uint64_t kvCount = c.read<uint64_t>("the metadata count");
    if (kvCount > c.remaining() / kMinKeyValueBytes)
        c.fail(kvCountAt, "metadata count " + std::to_string(kvCount) + " cannot fit in the " +
                              std::to_string(c.remaining()) + " bytes left");
    if (tensorCount > c.remaining() / kMinTensorInfoBytes)
        c.fail(tensorCountAt, "tensor count " + std::to_string(tensorCount) + " cannot fit in the " +
                                  std::to_string(c.remaining()) + " bytes left");

    // --- metadata ---
    metadata_.reserve(size_t(kvCount));
    metadataOffsets_.reserve(size_t(kvCount));
    uint64_t alignmentAt = 0;
    for (uint64_t i = 0; i < kvCount; ++i) {
        const uint64_t keyAt = c.pos();
        std::string key = c.readString("a metadata key");
        if (key.empty())
            c.fail(keyAt, "metadata key " + std::to_string(i) + " is empty");
        if (auto it = metadataIndex_.find(key); it != metadataIndex_.end())
            c.fail(keyAt, "duplicate metadata key " + quote(key));
        const uint64_t typeAt = c.pos();
        const uint32_t rawType = c.read<uint32_t>("a metadata value type");
        if (!validValueType(rawType))
            c.fail(typeAt, "unknown value type " + std::to_string(rawType) + " for key " + quote(key));
        GGUFValue value = readValue(c, GGUFValueType(rawType), 0, key);
        if (key == "general.alignment")
            alignmentAt = typeAt;
        metadataIndex_.emplace(key, metadata_.size());
        metadataOffsets_.push_back(typeAt + 4);
        metadata_.emplace_back(std::move(key), std::move(value));
    }

    alignment_ = kDefaultAlignment;
    if (const GGUFValue* a = find("general.alignment")) {
        if (!a->isInteger())
            c.fail(alignmentAt, std::string("general.alignment must be an integer, not ") +
                                    ggufValueTypeName(a->type()));
        const uint64_t v = a->toDouble() > 0 ? a->toUInt() : 0;
        if (v == 0 || (v & (v - 1)) != 0)
            c.fail(alignmentAt, "general.alignment " + a->describe() +
                                    " is not a non-zero power of two");
        alignment_ = v;
    }

    // --- tensor infos ---
    std::vector<uint64_t> offsetFieldAt;
    tensors_.reserve(size_t(tensorCount));
    offsetFieldAt.reserve(size_t(tensorCount));
    for (uint64_t i = 0; i < tensorCount; ++i) {
        GGUFTensorInfo t;
        const uint64_t nameAt = c.pos();
        t.infoOffset = nameAt;
        t.name = c.readString("a tensor name");
        if (t.name.empty())
            c.fail(nameAt, "tensor " + std::to_string(i) + " has an empty name");
        if (tensorIndex_.count(t.name))
            c.fail(nameAt, "duplicate tensor name " + quote(t.name));

        const uint64_t dimsAt = c.pos();
        const uint32_t nDims = c.read<uint32_t>("a tensor's dimension count");
        if (nDims == 0 || nDims > kMaxDims)
            c.fail(dimsAt, "tensor " + quote(t.name) + " has " + std::to_string(nDims) +
                               " dimensions (1 to 4 allowed)");
        uint64_t elements = 1;
        for (uint32_t d = 0; d < nDims; ++d) {
            const uint64_t dimAt = c.pos();
            const uint64_t ne = c.read<uint64_t>("a tensor dimension");
            if (ne == 0 || ne > uint64_t(std::numeric_limits<int64_t>::max()))
                c.fail(dimAt, "dimension " + std::to_string(d) + " of tensor " + quote(t.name) +
                                  " is " + std::to_string(int64_t(ne)) + " (must be at least 1)");
            if (!gguf_detail::checkedMul(elements, ne, elements) ||
                elements > uint64_t(std::numeric_limits<int64_t>::max()))
                c.fail(dimAt, "element count of tensor " + quote(t.name) + " overflows 63 bits");
            t.ne.push_back(int64_t(ne));
        }

        const uint64_t typeAt = c.pos();
        const uint32_t rawType = c.read<uint32_t>("a tensor type");
        const TypeTraits* traits = findTypeTraits(rawType);
        if (!traits)
            c.fail(typeAt, "tensor " + quote(t.name) + " has unknown or unsupported type id " +
                               std::to_string(rawType));
        t.type = traits->type;
        if (t.ne[0] % traits->blockSize != 0)
            c.fail(dimsAt + 4, "row length " + std::to_string(t.ne[0]) + " of tensor " + quote(t.name) +
                                   " is not a multiple of " + traits->name + "'s block size " +
                                   std::to_string(traits->blockSize));
        uint64_t rowBytes = 0;
        if (!gguf_detail::checkedMul(uint64_t(t.ne[0] / traits->blockSize), traits->blockBytes, rowBytes) ||
            !gguf_detail::checkedMul(rowBytes, elements / uint64_t(t.ne[0]), t.nbytes) ||
            t.nbytes > uint64_t(std::numeric_limits<int64_t>::max()))
            c.fail(dimsAt, "byte size of tensor " + quote(t.name) + " overflows 63 bits");

        offsetFieldAt.push_back(c.pos());
        t.offset = c.read<uint64_t>("a tensor data offset");
        if (t.offset % alignment_ != 0)
            c.fail(offsetFieldAt.back(), "data offset " + std::to_string(t.offset) + " of tensor " +
                                             quote(t.name) + " is not a multiple of the alignment " +
                                             std::to_string(alignment_));
        tensorIndex_.emplace(t.name, tensors_.size());
        tensors_.push_back(std::move(t));
    }

    // --- data section ---
    const uint64_t headerEnd = c.pos();
    if (!gguf_detail::alignUp(headerEnd, alignment_, dataOffset_))
        c.fail(headerEnd, "data section offset overflows with alignment " + std::to_string(alignment_));
    if (dataOffset_ > size_) {
        // Files without tensors often end right after the header, with no padding.
        if (!tensors_.empty())
            c.fail(headerEnd, "data section would start at byte " + std::to_string(dataOffset_) +
                                  ", past the end of the file (" + std::to_string(size_) + " bytes)");
        dataOffset_ = size_;
    }
    const uint64_t dataSize = size_ - dataOffset_;
    for (size_t i = 0; i < tensors_.size(); ++i) {
        const GGUFTensorInfo& t = tensors_[i];
        // The data is read in place as float / half arrays: with general.alignment 1 or 2 an F32
        // tensor could start at an odd address, which is undefined behaviour to read.
        const uint64_t elementAlign =
            t.type == GGMLType::F32 ? 4 : (t.type == GGMLType::F16 || t.type == GGMLType::BF16) ? 2 : 1;
        if ((dataOffset_ + t.offset) % elementAlign != 0)
            c.fail(offsetFieldAt[i], "data of " + std::string(typeName(t.type)) + " tensor " +
                                         quote(t.name) + " starts at file byte " +
                                         std::to_string(dataOffset_ + t.offset) +
                                         ", which is not a multiple of its element size " +
                                         std::to_string(elementAlign));
        if (t.offset > dataSize || t.nbytes > dataSize - t.offset)
            c.fail(offsetFieldAt[i], "data of tensor " + quote(t.name) + " (" + std::to_string(t.nbytes) +
                                         " bytes at data offset " + std::to_string(t.offset) +
                                         ") runs past the end of the file");
    }
    std::vector<size_t> order(tensors_.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
        const GGUFTensorInfo& prev = tensors_[order[k - 1]];
        const GGUFTensorInfo& next = tensors_[order[k]];
        if (prev.offset + prev.nbytes > next.offset)
            c.fail(offsetFieldAt[order[k]], "data of tensor " + quote(next.name) +
                                                " overlaps the data of tensor " + quote(prev.name));
    }
    for (GGUFTensorInfo& t : tensors_)
        t.data = base_ + dataOffset_ + t.offset;
}

} // namespace tenfold
