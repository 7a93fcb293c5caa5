#include "train/checkpoint.h"

#include "core/error.h"
#include "core/fnv.h"
#include "gguf/gguf_encode.h"

#include <cstring>
#include <fstream>

namespace tenfold::train {

namespace {

constexpr char kMagic[8] = {'T', 'F', 'T', 'R', 'C', 'K', 'P', '1'};

class HashingWriter {
public:
    explicit HashingWriter(const std::filesystem::path& p) : f_(p) {}
    void raw(const void* d, size_t n)
    {
        f_.write(d, n);
        h_.bytes(d, n);
    }
    template <class T>
    void value(const T& v) { raw(&v, sizeof v); }
    void finish()
    {
        const uint64_t sum = h_.h;
        f_.write(&sum, sizeof sum);
        f_.commit();
    }

private:
    AtomicFileWriter f_;
    Fnv1a h_;
};

} // namespace

void writeCheckpoint(const std::filesystem::path& path, const CheckpointState& s)
{
    if (s.m.size() != s.params.size() || s.v.size() != s.params.size())
        throw InvalidArgument("checkpoint: moments and parameters differ in size");
    std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path());
    HashingWriter w(path);
    w.raw(kMagic, sizeof kMagic);
    w.value(uint32_t(s.settings.size()));
    for (const auto& [name, value] : s.settings) {
        w.value(uint32_t(name.size()));
        w.raw(name.data(), name.size());
        w.value(value);
    }
    w.value(s.step);
    w.value(s.rng);
    w.value(s.adamSteps);
    w.value(uint64_t(s.params.size()));
    w.raw(s.params.data(), s.params.size() * sizeof(float));
    w.raw(s.m.data(), s.m.size() * sizeof(float));
    w.raw(s.v.data(), s.v.size() * sizeof(float));
    w.finish();
}

CheckpointState readCheckpoint(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError("cannot open checkpoint " + path.string());
    std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string file = path.string();
    if (buf.size() < sizeof kMagic + 8 || std::memcmp(buf.data(), kMagic, sizeof kMagic) != 0)
        throw FormatError(file, 0, "not a Tenfold training checkpoint");
    Fnv1a h;
    h.bytes(buf.data(), buf.size() - 8);
    uint64_t stored = 0;
    std::memcpy(&stored, buf.data() + buf.size() - 8, 8);
    if (stored != h.h)
        throw FormatError(file, buf.size() - 8, "checksum mismatch (damaged checkpoint)");
    size_t at = sizeof kMagic;
    const size_t end = buf.size() - 8;
    auto take = [&](void* dst, size_t n) {
        if (n > end - at)
            throw FormatError(file, at, "truncated checkpoint");
        std::memcpy(dst, buf.data() + at, n);
        at += n;
    };
    CheckpointState s;
    uint32_t nSettings = 0;
    take(&nSettings, 4);
    for (uint32_t i = 0; i < nSettings; ++i) {
        uint32_t len = 0;
        take(&len, 4);
        if (len > 256)
            throw FormatError(file, at, "implausible setting name length");
        std::string name(len, '\0');
        take(name.data(), len);
        double v = 0;
        take(&v, 8);
        s.settings.emplace_back(std::move(name), v);
    }
    take(&s.step, 8);
    take(&s.rng, 8);
    take(&s.adamSteps, 8);
    uint64_t n = 0;
    take(&n, 8);
    if (n > (end - at) / 12 || n * 12 != end - at)
        throw FormatError(file, at, "parameter count " + std::to_string(n) +
                                        " does not match the file's size");
    for (auto* vec : {&s.params, &s.m, &s.v}) {
        vec->resize(n);
        take(vec->data(), n * sizeof(float));
    }
    return s;
}

} // namespace tenfold::train
