#pragma once
// GGUF v2/v3 reader. The file is memory-mapped; tensor data are zero-copy views into the mapping,
// which lives as long as the GGUFFile. Every count, length, offset and size read from the header is
// checked against the file before use, and nothing is allocated in proportion to an unchecked
// header field: a corrupt or hostile file gives a FormatError naming the file, byte offset and
// problem. The rules enforced (e.g. 1 to 4 dimensions, each at least 1; unique keys and names; no
// two tensors sharing a byte) are listed at the top of gguf_reader.cpp.
#include "core/platform.h"
#include "gguf/gguf_value.h"
#include "tensor/ggml_type.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenfold {

struct GGUFTensorInfo {
    std::string name;
    GGMLType type = GGMLType::F32;
    std::vector<int64_t> ne;   // dimensions, ne[0] varies fastest (row length)
    uint64_t offset = 0;       // relative to the start of the data section
    uint64_t nbytes = 0;
    const uint8_t* data = nullptr; // into the mapping
    uint64_t infoOffset = 0;   // file byte where this tensor's info entry (its name) starts
    int64_t elementCount() const;
    int64_t rows() const;      // product of ne[1..]
};

class GGUFFile {
public:
    // Throws IoError (missing/unreadable) or FormatError (anything malformed).
    static std::shared_ptr<GGUFFile> open(const std::filesystem::path& path);
    // Parses a copy held in memory; `label` stands in for the file name in error messages.
    // Tensor views point into that copy, so they are aligned only as its allocation is (16 bytes
    // with glibc), where open()'s page-aligned mapping honours general.alignment.
    static std::shared_ptr<GGUFFile> fromBytes(std::vector<uint8_t> bytes, std::string label);
    ~GGUFFile();
    GGUFFile(const GGUFFile&) = delete;
    GGUFFile& operator=(const GGUFFile&) = delete;

    const std::string& label() const { return label_; } // the path, or the fromBytes label
    uint32_t version() const { return version_; }
    uint64_t fileSize() const { return size_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t dataOffset() const { return dataOffset_; }
    // Whether [p, p + n) lies inside the file's bytes (its mapping or the fromBytes copy).
    bool contains(const void* p, size_t n) const
    {
        const auto* b = static_cast<const uint8_t*>(p);
        return b >= base_ && n <= size_ && size_t(b - base_) <= size_ - n;
    }

    // In file order.
    const std::vector<std::pair<std::string, GGUFValue>>& metadata() const { return metadata_; }
    const GGUFValue* find(std::string_view key) const;
    // File byte where the value of `key` starts (after its type tag); 0 when the key is absent.
    // Lets callers that find a semantic problem with a value point at it.
    uint64_t metadataOffset(std::string_view key) const;
    // Typed look-ups: nullopt when absent; FormatError (naming the file, the value's byte offset
    // and the key) on a wrong type or an integer that does not fit.
    std::optional<std::string> getString(std::string_view key) const;
    std::optional<int64_t> getInt(std::string_view key) const;
    std::optional<double> getFloat(std::string_view key) const;
    std::optional<bool> getBool(std::string_view key) const;

    const std::vector<GGUFTensorInfo>& tensors() const { return tensors_; }
    const GGUFTensorInfo* findTensor(std::string_view name) const;

private:
    GGUFFile() = default;
    void parse();

    std::string label_;
    const uint8_t* base_ = nullptr;
    uint64_t size_ = 0;
    platform::MappedFile mapping_;  // the file's pages, or empty when owned_ holds the bytes
    std::vector<uint8_t> owned_;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t dataOffset_ = 0;
    std::vector<std::pair<std::string, GGUFValue>> metadata_;
    std::vector<uint64_t> metadataOffsets_; // parallel to metadata_: where each value starts
    std::vector<GGUFTensorInfo> tensors_;
    std::map<std::string, size_t, std::less<>> metadataIndex_; // key -> index into metadata_
    std::map<std::string, size_t, std::less<>> tensorIndex_;   // name -> index into tensors_
};

// Writes GGUF v3. Metadata keys keep insertion order; tensor data are aligned to general.alignment
// (32 unless set). write() goes through a temporary file renamed into place, so a failure (disk
// full, killed process) never leaves a half-written file under the final name.
class GGUFWriter {
public:
    void set(std::string key, GGUFValue value);   // replaces an existing key in place
    void remove(std::string_view key);
    // `data` must stay valid until write(); nbytes must equal rowBytes(type, ne[0]) * rows.
    void addTensor(std::string name, GGMLType type, std::vector<int64_t> ne, const void* data,
                   uint64_t nbytes);
    // Copies every metadata key of `src` (in order).
    void copyMetadata(const GGUFFile& src);
    void write(const std::filesystem::path& path) const; // throws IoError
    std::vector<uint8_t> toBytes() const;

private:
    struct PendingTensor {
        std::string name;
        GGMLType type;
        std::vector<int64_t> ne;
        const void* data;
        uint64_t nbytes;
    };
    uint64_t alignmentValue() const;
    std::vector<std::pair<std::string, GGUFValue>> metadata_;
    std::vector<PendingTensor> tensors_;
};

} // namespace tenfold
