#pragma once
// The one GGUF v3 encoder shared by GGUFWriter (whole file in memory) and the streaming writer of
// the passes (data arriving tensor by tensor): value encoding, the header with its metadata and
// tensor infos, and the data-offset layout, plus the temporary-file / fsync / rename sequence
// that makes a written file appear under its final name only when complete.
#include "gguf/gguf_value.h"
#include "tensor/ggml_type.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tenfold {

// What the header needs to know about one tensor.
struct GGUFTensorLayout {
    std::string name;
    GGMLType type = GGMLType::F32;
    std::vector<int64_t> ne;
    uint64_t nbytes = 0;
};

inline constexpr uint64_t kGGUFDefaultAlignment = 32;
inline constexpr int kGGUFMaxArrayDepth = 8; // the reader's cap; deeper would be unreadable

// Appends a value in GGUF encoding (type tag not included; arrays carry element type and count).
// Throws InvalidArgument for arrays nested deeper than kGGUFMaxArrayDepth.
void encodeGGUFValue(std::vector<uint8_t>& out, const GGUFValue& v);

// general.alignment from `metadata` (validated: an integer, a non-zero power of two; otherwise
// InvalidArgument), or 32 when absent.
uint64_t ggufAlignment(const std::vector<std::pair<std::string, GGUFValue>>& metadata);

// "GGUF" | version 3 | counts | metadata | tensor infos, with each tensor's data offset laid out
// back to back, each padded to `alignment`. Not padded at its end. Throws InvalidArgument when the
// offsets overflow.
std::vector<uint8_t> encodeGGUFHeader(const std::vector<std::pair<std::string, GGUFValue>>& metadata,
                                      const std::vector<GGUFTensorLayout>& tensors,
                                      uint64_t alignment);

// Writes a file under a unique temporary name beside `path` (mkstemp) and, on commit(), fsyncs
// it, renames it over `path` and fsyncs the directory, so concurrent writers never collide and a
// crash or failure never leaves a partial file under the final name. Destroying it uncommitted
// removes the temporary file. Buffered; write() throws IoError naming the file on a short write.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::filesystem::path path); // throws IoError
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const void* data, size_t n);
    void writeZeros(uint64_t n);
    uint64_t bytesWritten() const { return written_; }
    void commit(); // throws IoError

private:
    void flushBuffer();
    void writeAll(const void* data, size_t n);
    [[noreturn]] void failAndClean(const std::string& message);

    std::filesystem::path path_;
    std::string target_, tmp_;
    int fd_ = -1;
    std::vector<uint8_t> buffer_;
    uint64_t written_ = 0;
    bool committed_ = false;
};

} // namespace tenfold
