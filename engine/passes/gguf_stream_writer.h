#pragma once
// Writes a GGUF v3 file tensor by tensor, so a pass whose output is bigger than memory (a 7B model
// in F16 is 13 GB) never holds more than the chunk it is producing. GGUFWriter wants every
// tensor's bytes alive until write(); this writer instead takes the layout up front (names, types,
// shapes: that is all the header needs) and then the data in file order, in any number of chunks.
// The header encoding and the unique-temporary-file / fsync / rename sequence are GGUFWriter's
// own (engine/gguf/gguf_encode.h), so a failed or abandoned pass never leaves a truncated file
// under the final name and two runs writing the same path never collide.
#include "gguf/gguf_encode.h"
#include "gguf/gguf_value.h"
#include "tensor/ggml_type.h"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tenfold {

struct StreamTensorSpec {
    std::string name;
    GGMLType type = GGMLType::F32;
    std::vector<int64_t> ne; // ne[0] is the row length
    uint64_t nbytes() const;
};

class GGUFStreamWriter {
public:
    // Opens the temporary file and writes the header. Throws IoError, InvalidArgument (a shape
    // whose rows do not fit the type's block size).
    GGUFStreamWriter(std::filesystem::path path,
                     const std::vector<std::pair<std::string, GGUFValue>>& metadata,
                     std::vector<StreamTensorSpec> tensors);
    ~GGUFStreamWriter(); // removes the temporary file unless finish() succeeded
    GGUFStreamWriter(const GGUFStreamWriter&) = delete;
    GGUFStreamWriter& operator=(const GGUFStreamWriter&) = delete;

    // Appends bytes of the current tensor; tensors are filled in the order given to the
    // constructor. Throws InvalidArgument when more bytes arrive than the tensor holds.
    void append(const void* data, size_t nbytes);
    // Checks that every tensor got all its bytes, flushes and renames into place.
    void finish();

    uint64_t bytesWritten() const { return file_ ? file_->bytesWritten() : written_; }
    const std::vector<StreamTensorSpec>& tensors() const { return tensors_; }

private:
    void pad(uint64_t alignment);

    std::filesystem::path path_;
    std::unique_ptr<AtomicFileWriter> file_; // null once finished
    std::vector<StreamTensorSpec> tensors_;
    uint64_t alignment_ = 32;
    size_t current_ = 0;        // index of the tensor being filled
    uint64_t currentFilled_ = 0; // its bytes so far
    uint64_t written_ = 0; // the total, kept after finish() releases file_
};

// Appends a metadata value in GGUF encoding (type tag not included; arrays carry their element
// type and count). Same as encodeGGUFValue, kept for existing callers.
void appendGGUFValuePayload(std::vector<uint8_t>& out, const GGUFValue& v);

} // namespace tenfold
