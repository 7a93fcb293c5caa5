#pragma once
// Hand-assembles GGUF bytes field by field for tests, independently of GGUFWriter, so reader tests
// do not trust the writer and the byte offset of every field is known to the test.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tenfold::test {

struct GGUFBytes {
    std::vector<uint8_t> b;

    size_t pos() const { return b.size(); }
    GGUFBytes& raw(const void* p, size_t n)
    {
        const auto* c = static_cast<const uint8_t*>(p);
        b.insert(b.end(), c, c + n);
        return *this;
    }
    GGUFBytes& u8(uint8_t v) { return raw(&v, 1); }
    GGUFBytes& u32(uint32_t v) { return raw(&v, 4); }
    GGUFBytes& u64(uint64_t v) { return raw(&v, 8); }
    GGUFBytes& f32(float v) { return raw(&v, 4); }
    GGUFBytes& str(const std::string& s)
    {
        u64(s.size());
        return raw(s.data(), s.size());
    }
    GGUFBytes& header(uint32_t version, uint64_t tensors, uint64_t kvs)
    {
        raw("GGUF", 4);
        u32(version);
        u64(tensors);
        return u64(kvs);
    }
    // key, value type 4 (uint32), value
    GGUFBytes& kvU32(const std::string& key, uint32_t v)
    {
        str(key);
        u32(4);
        return u32(v);
    }
    GGUFBytes& tensorInfo(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset)
    {
        str(name);
        u32(uint32_t(ne.size()));
        for (uint64_t d : ne)
            u64(d);
        u32(type);
        return u64(offset);
    }
    GGUFBytes& padTo(size_t alignment)
    {
        while (b.size() % alignment)
            b.push_back(0);
        return *this;
    }
    GGUFBytes& zeros(size_t n)
    {
        b.insert(b.end(), n, 0);
        return *this;
    }
    void patchU64(size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }
    void patchU32(size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
};

} // namespace tenfold::test
