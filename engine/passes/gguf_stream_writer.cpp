#include "passes/gguf_stream_writer.h"

#include "core/error.h"

#include <algorithm>

namespace tenfold {

uint64_t StreamTensorSpec::nbytes() const
{
    if (ne.empty())
        throw InvalidArgument("tensor " + name + " has no dimensions");
    uint64_t rows = 1;
    for (size_t i = 1; i < ne.size(); ++i) {
        if (ne[i] < 1 || rows > UINT64_MAX / uint64_t(ne[i]))
            throw InvalidArgument("tensor " + name + " has dimension " + std::to_string(i) + " = " +
                                  std::to_string(ne[i]) + " (must be at least 1, and the size must fit)");
        rows *= uint64_t(ne[i]);
    }
    const uint64_t row = rowBytes(type, ne[0]); // checks the block size
    if (row != 0 && rows > UINT64_MAX / row)
        throw InvalidArgument("tensor " + name + " is too large");
    return row * rows;
}

void appendGGUFValuePayload(std::vector<uint8_t>& out, const GGUFValue& v) { encodeGGUFValue(out, v); }

GGUFStreamWriter::GGUFStreamWriter(std::filesystem::path path,
                                   const std::vector<std::pair<std::string, GGUFValue>>& metadata,
                                   std::vector<StreamTensorSpec> tensors)
    : path_(std::move(path)), tensors_(std::move(tensors))
{
    alignment_ = ggufAlignment(metadata);
    std::vector<GGUFTensorLayout> layout;
    layout.reserve(tensors_.size());
    for (const StreamTensorSpec& t : tensors_)
        layout.push_back(GGUFTensorLayout{t.name, t.type, t.ne, t.nbytes()});
    const std::vector<uint8_t> header = encodeGGUFHeader(metadata, layout, alignment_);

    file_ = std::make_unique<AtomicFileWriter>(path_);
    file_->write(header.data(), header.size());
    // Unlike GGUFWriter, the header is padded even when there are no tensors; kept as it was.
    pad(alignment_);
}

// file_'s destructor removes the temporary file unless finish() committed it.
GGUFStreamWriter::~GGUFStreamWriter() = default;

void GGUFStreamWriter::pad(uint64_t alignment)
{
    file_->writeZeros((alignment - file_->bytesWritten() % alignment) % alignment);
}

void GGUFStreamWriter::append(const void* data, size_t nbytes)
{
    if (!file_)
        throw InvalidArgument("data appended to " + path_.string() + " after finish()");
    const auto* p = static_cast<const uint8_t*>(data);
    while (nbytes) {
        if (current_ >= tensors_.size())
            throw InvalidArgument("more tensor data than the " + std::to_string(tensors_.size()) +
                                  " declared tensors hold");
        const uint64_t need = tensors_[current_].nbytes() - currentFilled_;
        const size_t n = size_t(std::min<uint64_t>(need, nbytes));
        file_->write(p, n);
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
    if (!file_)
        throw InvalidArgument(path_.string() + " was already finished");
    // Zero-byte tensors complete without any append.
    while (current_ < tensors_.size() && tensors_[current_].nbytes() == 0)
        ++current_;
    if (current_ != tensors_.size())
        throw InvalidArgument("tensor " + tensors_[current_].name + " got " +
                              std::to_string(currentFilled_) + " of its " +
                              std::to_string(tensors_[current_].nbytes()) + " bytes");
    written_ = file_->bytesWritten();
    file_->commit();
    file_.reset();
}

} // namespace tenfold
