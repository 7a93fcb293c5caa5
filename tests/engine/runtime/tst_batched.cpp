// Many sequences in one forward pass (runtime/batched_context.h) against the single-sequence
// context, which is the oracle: every logits row of a mixed batch (sequences of different lengths
// at different positions, a fork sharing a prefix, chunks of a prompt) must match what
// InferenceContext::decode gives for that sequence alone. Paged attention is checked against the
// scalar contiguous attention on random data and odd block sizes, and the block bookkeeping
// (sharing, copy-on-write, rollback, running out) against counts worked out by hand.
#include "common/kv_round_trip.h"
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/batched_context.h"
#include "runtime/cpu_backend.h"
#include "runtime/cpu_ops.h"
#include "runtime/kv_blocks.h"
#include "tensor/half.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

// Logits of every token of `tokens` decoded alone, in one context, in chunks of `chunk`.
std::vector<float> singleSequence(Backend& backend, const std::shared_ptr<Model>& model,
                                  const std::vector<int32_t>& tokens)
{
    ContextParams cp;
    auto ctx = backend.createContext(model, cp);
    std::vector<float> logits;
    ctx->decode(tokens, true, logits);
    return logits;
}

double maxDiff(const float* a, const float* b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; ++i)
        worst = std::max(worst, double(std::fabs(a[i] - b[i])));
    return worst;
}

std::vector<int32_t> randomTokens(std::mt19937& rng, int n, int vocab)
{
    std::uniform_int_distribution<int32_t> d(1, vocab - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t)
        x = d(rng);
    return t;
}

// The F16 activation rounding bound of tst_inference: batched and single passes take different
// matmul paths (GEMM tiles vs mat-vec) and so round differently.
constexpr double kLogitTolerance = 2e-2;

} // namespace

class TestBatched : public QObject {
    Q_OBJECT
    std::unique_ptr<Backend> backend_ = createCpuBackend(2);
    std::shared_ptr<Model> main_, stories_;

private slots:
    void initTestCase()
    {
        const auto m = sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto s = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        TENFOLD_REQUIRE_SHARED(s);
        main_ = Model::loadGGUF(m);
        stories_ = Model::loadGGUF(s);
    }

    void pagedAttentionMatchesContiguous_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("nKv");
        QTest::addColumn<int>("blockTokens");
        for (int type : {int(GGMLType::F16), int(GGMLType::F32)})
            for (auto [d, n, b] : {std::tuple{64, 1, 16}, std::tuple{64, 37, 16}, std::tuple{48, 50, 7},
                                   std::tuple{8, 3, 1}, std::tuple{128, 300, 17}, std::tuple{40, 64, 64}})
                QTest::newRow(qPrintable(QString("%1 D=%2 n=%3 block=%4")
                                             .arg(type == int(GGMLType::F16) ? "F16" : "F32")
                                             .arg(d).arg(n).arg(b)))
                    << type << d << n << b;
    }
    void pagedAttentionMatchesContiguous()
    {
        QFETCH(int, type);
        QFETCH(int, headDim);
        QFETCH(int, nKv);
        QFETCH(int, blockTokens);
        const GGMLType t = GGMLType(type);
        const size_t elem = t == GGMLType::F16 ? 2 : 4;
        const int heads = 3, stride = heads * headDim, head = 1; // attend with the middle KV head
        std::mt19937 rng(uint32_t(nKv * 131 + headDim));
        std::normal_distribution<float> nd(0.0f, 1.0f);
        std::vector<float> q(static_cast<size_t>(headDim));
        for (auto& x : q)
            x = nd(rng);
        // Contiguous cache [nKv][stride].
        std::vector<uint8_t> k(size_t(nKv) * stride * elem), v(k.size());
        auto put = [&](std::vector<uint8_t>& buf, size_t i, float x) {
            if (t == GGMLType::F16)
                reinterpret_cast<uint16_t*>(buf.data())[i] = fp32ToFp16(x);
            else
                reinterpret_cast<float*>(buf.data())[i] = x;
        };
        for (size_t i = 0; i < size_t(nKv) * stride; ++i) {
            put(k, i, nd(rng));
            put(v, i, nd(rng));
        }
        // The same rows in blocks, placed in a pool in shuffled order with a spare block between.
        const int nBlocks = (nKv + blockTokens - 1) / blockTokens;
        std::vector<int> slot(static_cast<size_t>(nBlocks));
        for (int b = 0; b < nBlocks; ++b)
            slot[size_t(b)] = 2 * b + 1;
        std::shuffle(slot.begin(), slot.end(), rng);
        const size_t blockBytes = size_t(blockTokens) * stride * elem;
        std::vector<uint8_t> kPool(blockBytes * size_t(2 * nBlocks + 2), 0xAB), vPool(kPool.size(), 0xCD);
        std::vector<const void*> kb(static_cast<size_t>(nBlocks)), vb(static_cast<size_t>(nBlocks));
        for (int j = 0; j < nKv; ++j) {
            const size_t at = size_t(slot[size_t(j / blockTokens)]) * blockBytes +
                              size_t(j % blockTokens) * stride * elem;
            std::memcpy(kPool.data() + at, k.data() + size_t(j) * stride * elem, stride * elem);
            std::memcpy(vPool.data() + at, v.data() + size_t(j) * stride * elem, stride * elem);
        }
        for (int b = 0; b < nBlocks; ++b) {
            kb[size_t(b)] = kPool.data() + size_t(slot[size_t(b)]) * blockBytes;
            vb[size_t(b)] = vPool.data() + size_t(slot[size_t(b)]) * blockBytes;
        }
        const float scale = 1.0f / std::sqrt(float(headDim));
        std::vector<float> scores(size_t(nKv) + 8), want(static_cast<size_t>(headDim)), refPaged(want.size()),
            fast(want.size());
        ref::attendOne(q.data(), k.data() + size_t(head) * headDim * elem,
                       v.data() + size_t(head) * headDim * elem, t, stride, nKv, headDim, scale,
                       scores.data(), want.data());
        ref::attendBlocks(q.data(), kb.data(), vb.data(), int64_t(head) * headDim, blockTokens, t,
                          stride, nKv, headDim, scale, scores.data(), refPaged.data());
        attendBlocks(q.data(), kb.data(), vb.data(), int64_t(head) * headDim, blockTokens, t, stride,
                     nKv, headDim, scale, scores.data(), fast.data());
        QVERIFY2(maxDiff(refPaged.data(), want.data(), want.size()) < 1e-5,
                 qPrintable(QString::number(maxDiff(refPaged.data(), want.data(), want.size()))));
        QVERIFY2(maxDiff(fast.data(), want.data(), want.size()) < 1e-4,
                 qPrintable(QString::number(maxDiff(fast.data(), want.data(), want.size()))));
    }

    void blockTableBookkeeping()
    {
        KvBlockTable table(6, 4, 20); // 6 blocks of 4 positions, sequences up to 20
        const SeqId a = table.open();
        QCOMPARE(table.blocksNeeded(a, 6), 2);
        std::pair<SeqId, int> grow[1] = {{a, 6}};
        auto plan = table.plan(grow);
        table.commit(plan);
        QCOMPARE(table.length(a), 6);
        QCOMPARE(table.freeBlocks(), 4);
        // A fork shares both blocks; writing position 6 into the shared half-full block copies it.
        const SeqId b = table.fork(a, -1);
        QCOMPARE(table.freeBlocks(), 4);
        QCOMPARE(table.references(table.blocks(a)[1]), 2);
        QCOMPARE(table.blocksNeeded(b, 1), 1);
        std::pair<SeqId, int> one[1] = {{b, 1}};
        plan = table.plan(one);
        QCOMPARE(int(plan.copies.size()), 1);
        QCOMPARE(plan.copies[0].from, table.blocks(a)[1]);
        QCOMPARE(plan.copies[0].rows, 2);
        // Rolled back: nothing changed.
        table.rollback(plan);
        QCOMPARE(table.freeBlocks(), 4);
        QCOMPARE(table.blocks(b), table.blocks(a));
        QCOMPARE(table.references(table.blocks(a)[1]), 2);
        plan = table.plan(one);
        table.commit(plan);
        QCOMPARE(table.length(b), 7);
        QCOMPARE(table.freeBlocks(), 3);
        QCOMPARE(table.blocks(b)[0], table.blocks(a)[0]);
        QVERIFY(table.blocks(b)[1] != table.blocks(a)[1]);
        QCOMPARE(table.references(table.blocks(a)[0]), 2);
        QCOMPARE(table.references(table.blocks(a)[1]), 1);
        // a now owns its second block alone: appending needs no copy.
        QCOMPARE(table.blocksNeeded(a, 2), 0);
        // Out of blocks: 3 free, 14 more positions for a need ceil(20/4) - 2 = 3... and 15 would
        // exceed the sequence limit.
        std::pair<SeqId, int> tooLong[1] = {{a, 15}};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, table.plan(tooLong));
        const SeqId c = table.open();
        std::pair<SeqId, int> both[2] = {{a, 14}, {c, 1}};
        QVERIFY_THROWS_EXCEPTION(KvCacheFull, table.plan(both));
        QCOMPARE(table.freeBlocks(), 3);
        // Closing frees blocks only when their last owner goes.
        table.close(a);
        QCOMPARE(table.freeBlocks(), 4);
        table.close(b);
        QCOMPARE(table.freeBlocks(), 6);
        table.truncate(c, 0);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, table.length(a));
    }

    void mixedBatchMatchesSingleSequences_data()
    {
        QTest::addColumn<bool>("stories");
        QTest::newRow("ref-main") << false;
        QTest::newRow("stories260K") << true;
    }
    void mixedBatchMatchesSingleSequences()
    {
        QFETCH(bool, stories);
        const auto& model = stories ? stories_ : main_;
        const int vocab = model->hparams().nVocab;
        std::mt19937 rng(7);
        // Three sequences; A and B start together, C joins in the second batch while A decodes
        // one token and B continues its prompt.
        const auto a = randomTokens(rng, 9, vocab), b = randomTokens(rng, 30, vocab),
                   c = randomTokens(rng, 21, vocab);
        BatchedParams bp;
        bp.maxSequences = 4;
        bp.blockSize = 16;
        auto ctx = backend_->createBatchedContext(model, bp);
        const SeqId sa = ctx->openSequence(), sb = ctx->openSequence();
        std::vector<BatchRow> rows;
        std::vector<std::pair<SeqId, int>> asked; // (sequence, position) per logits row
        auto add = [&](SeqId s, const std::vector<int32_t>& t, int from, int to, int startPos) {
            for (int i = from; i < to; ++i) {
                rows.push_back({t[size_t(i)], s, true, false});
                asked.emplace_back(s, startPos + (i - from));
            }
        };
        // Interleaved rows: the order within one sequence is what counts.
        for (int i = 0; i < 8; ++i) {
            add(sa, a, i, i + 1, i);
            add(sb, b, i, i + 1, i);
        }
        add(sb, b, 8, 12, 8);
        std::vector<float> logits;
        ctx->decode(rows, logits);
        std::map<SeqId, std::vector<std::pair<int, std::vector<float>>>> got;
        auto collect = [&] {
            const size_t V = size_t(vocab);
            for (size_t r = 0; r < asked.size(); ++r)
                got[asked[r].first].emplace_back(
                    asked[r].second,
                    std::vector<float>(logits.begin() + std::ptrdiff_t(r * V),
                                       logits.begin() + std::ptrdiff_t((r + 1) * V)));
            rows.clear();
            asked.clear();
        };
        collect();
        QCOMPARE(ctx->sequenceLength(sa), 8);
        QCOMPARE(ctx->sequenceLength(sb), 12);
        const SeqId sc = ctx->openSequence();
        add(sc, c, 0, 21, 0);
        add(sa, a, 8, 9, 8);
        add(sb, b, 12, 30, 12);
        ctx->decode(rows, logits);
        collect();
        QCOMPARE(ctx->sequenceLength(sc), 21);

        const std::map<SeqId, const std::vector<int32_t>*> tokens = {{sa, &a}, {sb, &b}, {sc, &c}};
        double worst = 0;
        for (const auto& [seq, list] : got) {
            const std::vector<float> want = singleSequence(*backend_, model, *tokens.at(seq));
            QCOMPARE(int(list.size()), int(tokens.at(seq)->size()));
            for (const auto& [pos, row] : list)
                worst = std::max(worst, maxDiff(row.data(), want.data() + size_t(pos) * size_t(vocab),
                                                size_t(vocab)));
        }
        qInfo("max |logit difference| batched vs single: %.2e", worst);
        QVERIFY2(worst < kLogitTolerance, qPrintable(QString::number(worst)));
    }

    // Timing every op changes no result (the same batch without profiling is the oracle, bit for
    // bit); the timings name the single-sequence context's ops, once per layer each, and are
    // those of the last pass only.
    void profiledPassesTimeEveryOpAndChangeNothing()
    {
        const int vocab = main_->hparams().nVocab, layers = main_->hparams().nLayer;
        std::mt19937 rng(5);
        const auto prompt = randomTokens(rng, 9, vocab);
        std::vector<float> logits[2];
        for (int profiled = 0; profiled < 2; ++profiled) {
            BatchedParams bp;
            bp.maxSequences = 2;
            bp.profile = profiled == 1;
            auto ctx = backend_->createBatchedContext(main_, bp);
            const SeqId a = ctx->openSequence(), b = ctx->openSequence();
            std::vector<BatchRow> rows;
            for (size_t i = 0; i < prompt.size(); ++i)
                rows.push_back({prompt[i], i % 2 ? a : b, i + 2 >= prompt.size(), false});
            ctx->decode(rows, logits[profiled]);
            const std::vector<OpTiming> t = ctx->lastTimings();
            if (!profiled) {
                QVERIFY(t.empty());
                continue;
            }
            std::map<std::string, int> perOp;
            double total = 0;
            for (const OpTiming& o : t) {
                if (o.layer >= 0)
                    ++perOp[o.op];
                total += o.microseconds;
            }
            for (const char* op : {"attn_norm", "matmul_qkv", "rope_kv_store", "attention", "matmul_wo",
                                   "residual_ffn_norm", "matmul_gate_up", "swiglu", "matmul_down", "residual"})
                QCOMPARE(perOp[op], layers);
            QVERIFY(total > 0);
            // A second pass replaces the first's timings.
            const size_t first = t.size();
            const BatchRow one[1] = {{prompt[0], a, true, false}};
            std::vector<float> again;
            ctx->decode(one, again);
            QCOMPARE(ctx->lastTimings().size(), first);
        }
        QCOMPARE(logits[1].size(), logits[0].size());
        QVERIFY(logits[0] == logits[1]);
    }

    void forkSharesPrefixAndCopiesOnWrite()
    {
        const int vocab = main_->hparams().nVocab;
        std::mt19937 rng(11);
        const auto prefix = randomTokens(rng, 21, vocab); // ends 5 positions into block 2
        BatchedParams bp;
        bp.maxSequences = 2;
        auto ctx = backend_->createBatchedContext(main_, bp);
        const SeqId a = ctx->openSequence();
        std::vector<BatchRow> rows;
        for (int32_t t : prefix)
            rows.push_back({t, a, false, false});
        std::vector<float> logits;
        ctx->decode(rows, logits);
        QVERIFY(logits.empty());
        const int usedBefore = ctx->totalBlocks() - ctx->freeBlocks();
        QCOMPARE(usedBefore, 2);
        const SeqId b = ctx->forkSequence(a, -1);
        QCOMPARE(ctx->totalBlocks() - ctx->freeBlocks(), 2); // shared, not copied
        // Each continues differently; b's write into the shared block copies it.
        const std::vector<int32_t> tailA = randomTokens(rng, 3, vocab), tailB = randomTokens(rng, 4, vocab);
        rows.clear();
        for (int32_t t : tailA)
            rows.push_back({t, a, true, false});
        for (int32_t t : tailB)
            rows.push_back({t, b, true, false});
        ctx->decode(rows, logits);
        QCOMPARE(ctx->totalBlocks() - ctx->freeBlocks(), 3);
        auto full = [&](const std::vector<int32_t>& tail) {
            std::vector<int32_t> all = prefix;
            all.insert(all.end(), tail.begin(), tail.end());
            return singleSequence(*backend_, main_, all);
        };
        const auto wantA = full(tailA), wantB = full(tailB);
        const size_t V = size_t(vocab);
        double worst = 0;
        for (size_t i = 0; i < tailA.size(); ++i)
            worst = std::max(worst, maxDiff(logits.data() + i * V, wantA.data() + (prefix.size() + i) * V, V));
        for (size_t i = 0; i < tailB.size(); ++i)
            worst = std::max(worst, maxDiff(logits.data() + (tailA.size() + i) * V,
                                            wantB.data() + (prefix.size() + i) * V, V));
        QVERIFY2(worst < kLogitTolerance, qPrintable(QString::number(worst)));
        // A fork of part of a sequence, then truncation of the original, leaves the fork intact.
        const SeqId c = ctx->forkSequence(a, 10);
        ctx->truncateSequence(a, 0);
        rows = {{prefix[10], c, true, false}};
        ctx->decode(rows, logits);
        const auto wantC = singleSequence(*backend_, main_, std::vector<int32_t>(prefix.begin(), prefix.begin() + 11));
        QVERIFY(maxDiff(logits.data(), wantC.data() + 10 * V, V) < kLogitTolerance);
        ctx->closeSequence(a);
        ctx->closeSequence(b);
        ctx->closeSequence(c);
        QCOMPARE(ctx->freeBlocks(), ctx->totalBlocks());
    }

    // A sequence exported and imported (a saved prefix restored) gives the same logits as the
    // sequence that computed it.
    void exportImportSequenceMatchesRecomputing()
    {
        const QString why = test::checkSequenceRoundTrip(*backend_, main_, main_->hparams().nVocab);
        QVERIFY2(why.isEmpty(), qPrintable(why));
    }

    void failedBatchChangesNothing()
    {
        const int vocab = stories_->hparams().nVocab;
        std::mt19937 rng(3);
        BatchedParams bp;
        bp.blockSize = 16;
        bp.maxSequenceLength = 64;
        bp.kvBudgetBytes = 1; // replaced below by an exact budget of 3 blocks
        const auto& hp = stories_->hparams();
        bp.kvBudgetBytes = uint64_t(3) * 16 * uint64_t(hp.nHeadKv) * uint64_t(hp.headDim) * 2 * 2 *
                           uint64_t(hp.nLayer);
        auto ctx = backend_->createBatchedContext(stories_, bp);
        QCOMPARE(ctx->totalBlocks(), 3);
        const SeqId s = ctx->openSequence();
        const auto t = randomTokens(rng, 40, vocab);
        std::vector<BatchRow> rows;
        for (int32_t x : t)
            rows.push_back({x, s, false, false});
        rows.back().logits = true;
        std::vector<float> logits;
        std::atomic<bool> cancel{true};
        QVERIFY_THROWS_EXCEPTION(Cancelled, ctx->decode(rows, logits, nullptr, &cancel));
        QCOMPARE(ctx->sequenceLength(s), 0);
        QCOMPARE(ctx->freeBlocks(), 3);
        // 40 + 9 positions need 4 blocks: refused whole.
        const SeqId s2 = ctx->openSequence();
        std::vector<BatchRow> more = rows;
        for (int i = 0; i < 9; ++i)
            more.push_back({t[size_t(i)], s2, false, false});
        QVERIFY_THROWS_EXCEPTION(KvCacheFull, ctx->decode(more, logits));
        QCOMPARE(ctx->freeBlocks(), 3);
        // The same batch without the cancel flag gives the single-sequence logits.
        ctx->decode(rows, logits);
        const auto want = singleSequence(*backend_, stories_, t);
        QVERIFY(maxDiff(logits.data(), want.data() + 39 * size_t(vocab), size_t(vocab)) < kLogitTolerance);
        // Bad rows name what is wrong.
        std::vector<BatchRow> bad = {{vocab, s, true, false}};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ctx->decode(bad, logits));
        bad = {{1, 999, true, false}};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ctx->decode(bad, logits));
        std::vector<BatchRow> tooLong(25, BatchRow{1, s, false, false}); // 40 + 25 > 64
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, ctx->decode(tooLong, logits));
        QCOMPARE(ctx->sequenceLength(s), 40);
    }
};

QTEST_GUILESS_MAIN(TestBatched)
#include "tst_batched.moc"
