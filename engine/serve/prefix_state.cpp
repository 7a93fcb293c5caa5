#include "serve/prefix_state.h"

#include "model/model.h"
#include "runtime/batched_context.h"
#include "runtime/prompt_state.h"
#include "serve/prefix_cache.h"

#include <algorithm>
#include <system_error>

namespace tenfold {
namespace {

const std::string kKind = "prefix";

} // namespace

PrefixStateReport savePrefixState(const PrefixCache& cache, const BatchedContext& constCtx, const Model& model,
                                  const std::filesystem::path& dir, uint64_t maxBytes)
{
    PrefixStateReport report;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        report.warnings.push_back("cannot create " + dir.string() + ": " + ec.message());
        return report;
    }
    // Reading a prefix's blocks opens a sequence over them for a moment; the context's contents do
    // not change.
    auto& ctx = const_cast<BatchedContext&>(constCtx);
    const LlamaHParams& hp = model.hparams();
    const uint64_t bytesPerToken = uint64_t(hp.nLayer) * 2 * uint64_t(hp.nHeadKv) * uint64_t(hp.headDim) * 2;
    std::vector<std::string> written;
    uint64_t total = 0;
    for (const CachedPrefix& p : cache.prefixes()) {
        const uint64_t bytes = uint64_t(p.tokens.size()) * bytesPerToken;
        if (total + bytes > maxBytes)
            continue; // a shorter, older one may still fit
        PromptState state;
        state.modelFingerprint = model.fingerprint();
        state.cacheType = GGMLType::F16;
        state.layers = hp.nLayer;
        state.rowElements = hp.nHeadKv * hp.headDim;
        state.tokens = p.tokens;
        const std::string name = promptStateFileName(kKind, model, p.tokens);
        try {
            const SeqId seq = ctx.openSequenceWithBlocks(p.blocks, int(p.tokens.size()));
            try {
                state.kv = ctx.exportSequence(seq, int(p.tokens.size()));
            } catch (...) {
                ctx.closeSequence(seq);
                throw;
            }
            ctx.closeSequence(seq);
            savePromptState(dir / name, state);
        } catch (const std::exception& e) {
            report.warnings.push_back("prefix of " + std::to_string(p.tokens.size()) + " tokens not saved: " + e.what());
            continue;
        }
        written.push_back(name);
        total += bytes;
        ++report.files;
        report.tokens += int(p.tokens.size());
    }
    removePromptStatesExcept(dir, kKind, model, written);
    return report;
}

PrefixStateReport restorePrefixState(PrefixCache& cache, BatchedContext& ctx, const Model& model,
                                     const std::filesystem::path& dir)
{
    PrefixStateReport report;
    // Every model's prefix files: another model's are refused by loadPromptState, with a warning.
    for (const std::filesystem::path& file : promptStateFiles(dir, kKind)) {
        std::string why;
        const std::optional<PromptState> state = loadPromptState(file, model, GGMLType::F16, &why);
        if (!state) {
            report.warnings.push_back(file.string() + " ignored: " + why);
            continue;
        }
        const int n = int(state->tokens.size());
        if (n == 0 || n > ctx.maxSequenceLength()) {
            report.warnings.push_back(file.string() + " ignored: " + std::to_string(n) +
                                      " positions do not fit a sequence of " + std::to_string(ctx.maxSequenceLength()));
            continue;
        }
        SeqId seq = -1;
        try {
            seq = ctx.importSequence(n, state->kv);
        } catch (const KvCacheFull&) {
            report.warnings.push_back("the KV pool is full; " + file.string() + " and older prefixes not restored");
            break;
        } catch (const std::exception& e) {
            report.warnings.push_back(file.string() + " ignored: " + e.what());
            continue;
        }
        cache.insert(state->tokens, seq); // the cache takes its own references
        ctx.closeSequence(seq);
        ++report.files;
        report.tokens += n;
    }
    return report;
}

} // namespace tenfold
