#include "logits_dump.h"

#include <cstdio>
#include <filesystem>

namespace tenfold::worker {

LogitsDump::LogitsDump(std::unique_ptr<InferenceContext> inner, std::string path)
    : inner_(std::move(inner)), path_(std::move(path)) {}

LogitsDump::~LogitsDump()
{
    const std::string tmp = path_ + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    bool ok = f && std::fwrite(all_.data(), sizeof(float), all_.size(), f) == all_.size();
    if (f)
        ok = std::fclose(f) == 0 && ok;
    std::error_code ec;
    if (ok)
        std::filesystem::rename(tmp, path_, ec);
    if (!ok || ec) {
        std::fprintf(stderr, "tenfold-worker: could not write the logits to %s\n", path_.c_str());
        std::filesystem::remove(tmp, ec);
    }
}

void LogitsDump::decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                        const std::atomic<bool>* cancel)
{
    inner_->decode(tokens, allLogits, logits, cancel);
    all_.insert(all_.end(), logits.begin(), logits.end());
}

void LogitsDump::decodeRows(std::span<const int32_t> tokens, int firstRow, std::vector<float>& logits,
                            const std::atomic<bool>* cancel)
{
    inner_->decodeRows(tokens, firstRow, logits, cancel);
    all_.insert(all_.end(), logits.begin(), logits.end());
}

} // namespace tenfold::worker
