#include "runtime/prompt_state.h"

#include "core/byte_io.h"
#include "core/error.h"
#include "core/fnv.h"
#include "model/model.h"
#include "runtime/backend.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "core/platform.h"

namespace tenfold {
namespace {

constexpr char kMagic[4] = {'T', 'F', 'K', 'V'};
constexpr uint32_t kVersion = 1;
constexpr size_t kChunk = 1 << 20;

using bytes::get;
using bytes::put;

size_t rowBytes(const Model& m, GGMLType t)
{
    return size_t(m.hparams().nHeadKv) * size_t(m.hparams().headDim) * (t == GGMLType::F32 ? 4 : 2);
}

} // namespace

namespace {

std::string hex16(uint64_t v)
{
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(v));
    return hex;
}

} // namespace

std::string promptStateFileName(const std::string& kind, const Model& model, std::span<const int32_t> tokens)
{
    return kind + "-" + hex16(model.fingerprint()) + "-" + hex16(fnv1a(tokens.data(), tokens.size() * sizeof(int32_t))) +
           ".tfkv";
}

bool isPromptStateFile(const std::filesystem::path& file, const std::string& kind, const Model* model)
{
    const std::string start = kind + "-" + (model ? hex16(model->fingerprint()) + "-" : std::string());
    const std::string name = file.filename().string();
    return name.rfind(start, 0) == 0 && file.extension() == ".tfkv";
}

std::vector<std::filesystem::path> promptStateFiles(const std::filesystem::path& dir, const std::string& kind,
                                                    const Model* model)
{
    std::error_code ec;
    std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> found;
    if (!std::filesystem::is_directory(dir, ec))
        return {};
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (isPromptStateFile(entry.path(), kind, model))
            found.emplace_back(entry.last_write_time(ec), entry.path());
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::filesystem::path> out;
    for (auto& [time, path] : found)
        out.push_back(std::move(path));
    return out;
}

void removePromptStatesExcept(const std::filesystem::path& dir, const std::string& kind, const Model& model,
                              const std::vector<std::string>& keep)
{
    std::error_code ec;
    for (const std::filesystem::path& file : promptStateFiles(dir, kind, &model))
        if (std::find(keep.begin(), keep.end(), file.filename().string()) == keep.end())
            std::filesystem::remove(file, ec);
}

void savePromptState(const std::filesystem::path& file, const PromptState& s)
{
    std::vector<uint8_t> head;
    head.insert(head.end(), kMagic, kMagic + 4);
    put(head, kVersion);
    put(head, s.modelFingerprint);
    put(head, uint32_t(s.cacheType));
    put(head, uint32_t(s.layers));
    put(head, uint32_t(s.rowElements));
    put(head, uint32_t(s.tokens.size()));
    for (int32_t t : s.tokens)
        put(head, t);
    put(head, fnv1a(head.data(), head.size()));

    std::filesystem::path tmp = file;
    tmp += ".tmp-" + std::to_string(platform::processId());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw IoError(tmp.string() + ": cannot create the prompt cache file");
        out.write(reinterpret_cast<const char*>(head.data()), std::streamsize(head.size()));
        for (size_t at = 0; at < s.kv.size(); at += kChunk) {
            const size_t n = std::min(kChunk, s.kv.size() - at);
            out.write(reinterpret_cast<const char*>(s.kv.data() + at), std::streamsize(n));
            const uint64_t sum = fnv1a(s.kv.data() + at, n);
            out.write(reinterpret_cast<const char*>(&sum), sizeof sum);
        }
        out.flush();
        if (!out) {
            out.close();
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            throw IoError(tmp.string() + ": writing the prompt cache failed (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw IoError(file.string() + ": cannot replace the prompt cache file: " + ec.message());
    }
}

std::optional<PromptState> loadPromptState(const std::filesystem::path& file, const Model& model,
                                           GGMLType cacheType, std::string* why)
{
    auto refuse = [&](const std::string& reason) -> std::optional<PromptState> {
        if (why)
            *why = file.string() + ": " + reason;
        return std::nullopt;
    };
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return refuse("no such file (it will be written after this run)");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = 0;
    uint32_t version = 0, type = 0, layers = 0, rowElements = 0, count = 0;
    PromptState s;
    if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0)
        return refuse("not a Tenfold prompt cache file");
    at = 4;
    if (!get(bytes, at, version) || version != kVersion)
        return refuse("prompt cache version " + std::to_string(version) + ", this build reads version " +
                      std::to_string(kVersion));
    if (!get(bytes, at, s.modelFingerprint) || !get(bytes, at, type) || !get(bytes, at, layers) ||
        !get(bytes, at, rowElements) || !get(bytes, at, count))
        return refuse("truncated header");
    if (count > (bytes.size() - at) / 4)
        return refuse("truncated token list");
    s.tokens.resize(count);
    for (auto& t : s.tokens)
        get(bytes, at, t);
    const uint64_t want = fnv1a(bytes.data(), at);
    uint64_t sum = 0;
    if (!get(bytes, at, sum) || sum != want)
        return refuse("header checksum mismatch (corrupted)");
    if (s.modelFingerprint != model.fingerprint())
        return refuse("saved for a different model (fingerprint differs)");
    const LlamaHParams& hp = model.hparams();
    if (type != uint32_t(cacheType) || int(layers) != hp.nLayer || int(rowElements) != hp.nHeadKv * hp.headDim)
        return refuse("saved with a different KV cache layout");
    for (int32_t t : s.tokens)
        if (t < 0 || t >= hp.nVocab)
            return refuse("token id " + std::to_string(t) + " is outside the vocabulary");
    s.cacheType = cacheType;
    s.layers = int(layers);
    s.rowElements = int(rowElements);
    const size_t kvBytes = size_t(count) * rowBytes(model, cacheType) * 2 * size_t(layers);
    s.kv.reserve(kvBytes);
    for (size_t done = 0; done < kvBytes;) {
        const size_t n = std::min(kChunk, kvBytes - done);
        if (bytes.size() - at < n + 8)
            return refuse("truncated at cache byte " + std::to_string(done) + " of " + std::to_string(kvBytes));
        uint64_t chunkSum = 0;
        std::memcpy(&chunkSum, bytes.data() + at + n, 8);
        if (chunkSum != fnv1a(bytes.data() + at, n))
            return refuse("checksum mismatch in the chunk at cache byte " + std::to_string(done) + " (corrupted)");
        s.kv.insert(s.kv.end(), bytes.begin() + std::ptrdiff_t(at), bytes.begin() + std::ptrdiff_t(at + n));
        at += n + 8;
        done += n;
    }
    if (at != bytes.size())
        return refuse("unexpected bytes after the cache");
    return s;
}

PromptState capturePromptState(const InferenceContext& ctx, const Model& model, GGMLType cacheType,
                               std::span<const int32_t> tokens)
{
    PromptState s;
    s.modelFingerprint = model.fingerprint();
    s.cacheType = cacheType;
    s.layers = model.hparams().nLayer;
    s.rowElements = model.hparams().nHeadKv * model.hparams().headDim;
    s.tokens.assign(tokens.begin(), tokens.end());
    s.kv = ctx.exportKv(int(tokens.size()));
    return s;
}

int restorePromptState(InferenceContext& ctx, const PromptState& state, std::span<const int32_t> prompt)
{
    size_t n = 0;
    const size_t limit = std::min(state.tokens.size(), prompt.empty() ? size_t(0) : prompt.size() - 1);
    while (n < limit && state.tokens[n] == prompt[n])
        ++n;
    ctx.truncate(0);
    if (n == 0)
        return 0;
    // exportKv's layout is per layer [n rows of keys][n rows of values]: a prefix of m positions
    // takes the first m rows of each.
    const size_t row = size_t(state.rowElements) * (state.cacheType == GGMLType::F32 ? 4 : 2);
    const size_t total = state.tokens.size();
    std::vector<uint8_t> part(n * row * 2 * size_t(state.layers));
    for (int l = 0; l < state.layers; ++l) {
        const uint8_t* src = state.kv.data() + size_t(l) * 2 * total * row;
        uint8_t* dst = part.data() + size_t(l) * 2 * n * row;
        std::memcpy(dst, src, n * row);
        std::memcpy(dst + n * row, src + total * row, n * row);
    }
    ctx.importKv(int(n), part);
    return int(n);
}

} // namespace tenfold
