#pragma once
// Bounds-checked little-endian reads over a byte range, for the GGUF reader. Every read first
// checks that the bytes exist; running off the end is a FormatError at the offset where the
// missing field starts, never an out-of-bounds read.
#include "core/error.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace tenfold::gguf_detail {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader and writer assume a little-endian host, as GGUF files are");

class Cursor {
public:
    Cursor(const uint8_t* base, uint64_t size, const std::string& label)
        : base_(base), size_(size), label_(label) {}

    uint64_t pos() const { return pos_; }
    uint64_t size() const { return size_; }
    uint64_t remaining() const { return size_ - pos_; }

    [[noreturn]] void fail(uint64_t at, const std::string& problem) const
    {
        throw FormatError(label_, at, problem);
    }

    void need(uint64_t n, const char* what) const
    {
        if (n > remaining())
            fail(pos_, std::string("file ends inside ") + what + " (needs " + std::to_string(n) +
                           " bytes, " + std::to_string(remaining()) + " left)");
    }

    template <class T>
    T read(const char* what)
    {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, base_ + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }

    // A GGUF string: uint64 byte length, then the bytes (not NUL-terminated; any bytes allowed).
    std::string readString(const char* what)
    {
        const uint64_t at = pos_;
        const uint64_t len = read<uint64_t>(what);
        if (len > remaining())
            fail(at, std::string(what) + " claims " + std::to_string(len) + " bytes but only " +
                         std::to_string(remaining()) + " remain in the file");
        std::string s(reinterpret_cast<const char*>(base_ + pos_), size_t(len));
        pos_ += len;
        return s;
    }

private:
    const uint8_t* base_;
    uint64_t size_;
    uint64_t pos_ = 0;
    const std::string& label_;
};

// Checked arithmetic for sizes derived from header fields: false on overflow.
inline bool checkedMul(uint64_t a, uint64_t b, uint64_t& out)
{
    return !__builtin_mul_overflow(a, b, &out);
}
inline bool checkedAdd(uint64_t a, uint64_t b, uint64_t& out)
{
    return !__builtin_add_overflow(a, b, &out);
}
// Rounds up to a multiple of `alignment` (a power of two); false on overflow.
inline bool alignUp(uint64_t v, uint64_t alignment, uint64_t& out)
{
    uint64_t t;
    if (!checkedAdd(v, alignment - 1, t))
        return false;
    out = t & ~(alignment - 1);
    return true;
}

} // namespace tenfold::gguf_detail
