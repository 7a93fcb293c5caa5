#pragma once
// A batched context's sequence export/import (BatchedContext::exportSequence/importSequence), held
// to recomputation on any backend: a prompt decoded into sequence A, exported and imported as
// sequence B, must give B the same bytes and, for the next token, logits bit-identical to A's
// (the same kernels read the same keys and values). Also: a size that does not match and a full
// pool are refused without changing the pool. Returns an empty string or what went wrong.
#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/batched_context.h"

#include <QString>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace tenfold::test {

inline QString checkSequenceRoundTrip(Backend& backend, const std::shared_ptr<const Model>& model, int vocab)
{
    BatchedParams bp;
    bp.maxSequences = 2;
    bp.maxSequenceLength = 128;
    auto ctx = backend.createBatchedContext(model, bp);
    std::mt19937 rng(5);
    std::vector<int32_t> prompt(37); // two whole blocks and 5 positions of a third
    for (int32_t& t : prompt)
        t = int32_t(rng() % uint32_t(vocab));
    const SeqId a = ctx->openSequence();
    std::vector<BatchRow> rows;
    for (int32_t t : prompt)
        rows.push_back({t, a, false, false});
    std::vector<float> logits, la, lb;
    ctx->decode(rows, logits);
    const std::vector<uint8_t> kv = ctx->exportSequence(a, int(prompt.size()));
    const int freeBefore = ctx->freeBlocks();
    bool refused = false;
    try {
        ctx->importSequence(int(prompt.size()) + 1, kv);
    } catch (const InvalidArgument&) {
        refused = true;
    }
    if (!refused || ctx->freeBlocks() != freeBefore)
        return "a state of the wrong size was not refused cleanly";
    const SeqId b = ctx->importSequence(int(prompt.size()), kv);
    if (ctx->sequenceLength(b) != int(prompt.size()))
        return QString("the imported sequence holds %1 positions").arg(ctx->sequenceLength(b));
    if (ctx->exportSequence(b, int(prompt.size())) != kv)
        return "the imported sequence exports other bytes";
    const int32_t next = int32_t(rng() % uint32_t(vocab));
    std::vector<BatchRow> one{{next, a, true, false}};
    ctx->decode(one, la);
    one = {{next, b, true, false}};
    ctx->decode(one, lb);
    if (la.size() != size_t(vocab) || la.size() != lb.size() || std::memcmp(la.data(), lb.data(), la.size() * 4) != 0) {
        double worst = 0;
        for (size_t i = 0; i < std::min(la.size(), lb.size()); ++i)
            worst = std::max(worst, double(std::abs(la[i] - lb[i])));
        return QString("logits after the restored prefix differ from recomputing by up to %1").arg(worst);
    }
    // A full pool: the import takes nothing.
    std::vector<SeqId> fill;
    try {
        for (;;)
            fill.push_back(ctx->importSequence(int(prompt.size()), kv));
    } catch (const KvCacheFull&) {
    }
    const int freeAtFull = ctx->freeBlocks();
    if (fill.empty() || freeAtFull >= 3)
        return QString("the pool never filled (%1 imports, %2 blocks free)").arg(fill.size()).arg(freeAtFull);
    ctx->closeSequence(a);
    ctx->closeSequence(b);
    for (SeqId s : fill)
        ctx->closeSequence(s);
    if (ctx->freeBlocks() != ctx->totalBlocks())
        return "blocks leaked";
    return {};
}

} // namespace tenfold::test
