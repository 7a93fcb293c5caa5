// Pipeline-parallel serving (dist/pipeline_batched.h) without MPI: the stages are three batched
// contexts over layers 0..2, 3..4 and 5..7 of ref-main in one process, the residual stream handed
// from one to the next as the ranks hand it, and the later stages' block tables driven only by the
// replayed log of rank 0's table commands (dist/batch_protocol.h). The oracle is the whole-model
// batched context (itself checked against the single-sequence context in tst_batched) running the
// same batches: every logits row must be bit-identical, and every stage must hold the same blocks
// for every sequence as rank 0, through prompts, a fork sharing a partial block (copy-on-write),
// a truncate, retained blocks, an adopted prefix, a close, and rank 0's trial plans (checkRows),
// which the stages never see.
#include "common/shared_data.h"
#include "core/error.h"
#include "dist/batch_protocol.h"
#include "model/model.h"
#include "runtime/cpu_batched_context.h"

#include <QtTest>

#include <cstring>
#include <memory>
#include <random>

using namespace tenfold;
using namespace tenfold::dist;

namespace {

constexpr int kThreads = 2;

std::vector<BatchRow> rowsOf(const std::vector<std::pair<SeqId, std::vector<int32_t>>>& parts)
{
    std::vector<BatchRow> rows;
    for (const auto& [seq, tokens] : parts)
        for (size_t i = 0; i < tokens.size(); ++i)
            rows.push_back({tokens[i], seq, i + 1 == tokens.size(), false});
    return rows;
}

// Rank 0's side: its own stage plus the log of table commands the others replay.
struct Rank0 {
    CpuBatchedContext& ctx;
    std::vector<int32_t> log;
    SeqId open()
    {
        const SeqId id = ctx.openSequence();
        log.insert(log.end(), {int32_t(TableOp::Open), id});
        return id;
    }
    SeqId fork(SeqId from, int length)
    {
        const SeqId id = ctx.forkSequence(from, length);
        log.insert(log.end(), {int32_t(TableOp::Fork), from, length, id});
        return id;
    }
    void close(SeqId seq)
    {
        ctx.closeSequence(seq);
        log.insert(log.end(), {int32_t(TableOp::Close), seq});
    }
    void truncate(SeqId seq, int length)
    {
        ctx.truncateSequence(seq, length);
        log.insert(log.end(), {int32_t(TableOp::Truncate), seq, length});
    }
    void retain(int block)
    {
        ctx.retainBlock(block);
        log.insert(log.end(), {int32_t(TableOp::Retain), block});
    }
    void release(int block)
    {
        ctx.releaseBlock(block);
        log.insert(log.end(), {int32_t(TableOp::Release), block});
    }
    SeqId adopt(const std::vector<int>& blocks, int length)
    {
        const SeqId id = ctx.openSequenceWithBlocks(blocks, length);
        log.insert(log.end(), {int32_t(TableOp::Adopt), length, id, int32_t(blocks.size())});
        log.insert(log.end(), blocks.begin(), blocks.end());
        return id;
    }
};

} // namespace

class TestPipelineStages : public QObject {
    Q_OBJECT
    std::shared_ptr<Model> model_;

    BatchedParams params(int first, int end) const
    {
        BatchedParams p;
        p.maxSequenceLength = 128;
        p.blockSize = 4; // small blocks: partial blocks, forks inside a block, several per sequence
        p.maxSequences = 2; // a pool of 64 blocks, so a trial batch can run out
        p.firstLayer = first;
        p.endLayer = end;
        return p;
    }

private slots:
    void initTestCase()
    {
        const auto path = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        model_ = Model::loadGGUF(path);
        QCOMPARE(model_->hparams().nLayer, 8);
    }

    void stagesChainedEqualTheWholeModel()
    {
        CpuBatchedContext whole(model_, params(0, 0), kThreads, nullptr);
        CpuBatchedContext s0(model_, params(0, 3), kThreads, nullptr);
        CpuBatchedContext s1(model_, params(3, 5), kThreads, nullptr);
        CpuBatchedContext s2(model_, params(5, 8), kThreads, nullptr);
        QCOMPARE(s0.totalBlocks(), whole.totalBlocks()); // every stage's pool has the same blocks
        QCOMPARE(s2.totalBlocks(), whole.totalBlocks());
        QVERIFY(s1.bytesHeld() < whole.bytesHeld()); // but only its own layers' KV
        Rank0 r0{s0, {}};
        std::mt19937 rng(7);
        std::uniform_int_distribution<int32_t> tok(1, model_->hparams().nVocab - 1);
        auto tokens = [&](int n) {
            std::vector<int32_t> t(static_cast<size_t>(n));
            for (auto& x : t)
                x = tok(rng);
            return t;
        };

        // One pass through the chain, as rank 0 and the stages run it; the whole model runs the
        // same rows. Both give logits of the rows that ask.
        int passes = 0;
        auto step = [&](const std::vector<BatchRow>& rows) {
            std::vector<float> expected, got, stream;
            whole.decode(rows, expected, nullptr, nullptr);
            s0.checkRows(rows, false); // rank 0's trial plan; the stages never make one
            const int freeBefore = s0.freeBlocks(); // what a pass message carries
            s0.decodeLayers(rows, stream);
            for (CpuBatchedContext* stage : {&s1, &s2}) {
                replayTableLog(r0.log, *stage);
                QCOMPARE(stage->freeBlocks(), freeBefore); // after the log, before the rows
                stage->decodeLayers(rows, stream);
            }
            r0.log.clear();
            s0.outputHead(rows, stream, got, nullptr);
            QCOMPARE(got.size(), expected.size());
            QVERIFY2(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)) == 0,
                     qPrintable(QStringLiteral("pass %1: the chained stages' logits differ from the whole model's")
                                    .arg(passes)));
            ++passes;
        };
        // The same command on the whole model and on rank 0 (which logs it).
        auto sameBlocks = [&](SeqId seq) {
            QCOMPARE(s1.sequenceBlocks(seq), s0.sequenceBlocks(seq));
            QCOMPARE(s2.sequenceBlocks(seq), s0.sequenceBlocks(seq));
            QCOMPARE(s2.sequenceLength(seq), s0.sequenceLength(seq));
        };

        const SeqId a = r0.open(), b = r0.open();
        QCOMPARE(whole.openSequence(), a);
        QCOMPARE(whole.openSequence(), b);
        step(rowsOf({{a, tokens(7)}, {b, tokens(5)}})); // two prompts in one batch
        if (QTest::currentTestFailed())
            return;
        step(rowsOf({{a, tokens(1)}, {b, tokens(1)}})); // a decode step
        // A fork inside a's second block: its next write copies the shared partial block.
        const SeqId c = r0.fork(a, 6);
        QCOMPARE(whole.forkSequence(a, 6), c);
        r0.truncate(b, 3);
        whole.truncateSequence(b, 3);
        const std::vector<int> prefix = s0.sequenceBlocks(a);
        for (int blk : {prefix[0], prefix[1]}) {
            r0.retain(blk);
            whole.retainBlock(blk);
        }
        step(rowsOf({{c, tokens(3)}, {b, tokens(2)}, {a, tokens(1)}}));
        if (QTest::currentTestFailed())
            return;
        r0.close(a);
        whole.closeSequence(a);
        // The retained blocks outlive a: a new sequence adopts them as its first 8 positions.
        const SeqId d = r0.adopt({prefix[0], prefix[1]}, 8);
        QCOMPARE(whole.openSequenceWithBlocks(std::vector<int>{prefix[0], prefix[1]}, 8), d);
        for (int blk : {prefix[0], prefix[1]}) {
            r0.release(blk);
            whole.releaseBlock(blk);
        }
        // Rank 0 tries a batch the pool cannot hold (KvCacheFull, rolled back); the stages never
        // see it, and the next allocations must still agree.
        std::vector<std::pair<SeqId, std::vector<int32_t>>> tooBig{{d, tokens(120)}, {b, tokens(120)}};
        QVERIFY_THROWS_EXCEPTION(KvCacheFull, s0.checkRows(rowsOf(tooBig), false));
        const SeqId e = r0.open();
        QCOMPARE(whole.openSequence(), e);
        step(rowsOf({{d, tokens(2)}, {e, tokens(9)}, {c, tokens(1)}, {b, tokens(1)}}));
        if (QTest::currentTestFailed())
            return;
        // Pieces of one batch, as the micro-batches go: each its own pass on every side.
        const std::vector<BatchRow> rows = rowsOf({{d, tokens(1)}, {e, tokens(1)}, {c, tokens(1)}, {b, tokens(4)}});
        step({rows.begin(), rows.begin() + 3});
        step({rows.begin() + 3, rows.end()});
        for (SeqId s : {b, c, d, e})
            sameBlocks(s);
        QCOMPARE(s1.freeBlocks(), s0.freeBlocks());
        QCOMPARE(s2.freeBlocks(), whole.freeBlocks());
    }

    // The trial plan rank 0 makes before every batch (checkRows: plan, then roll back) leaves the
    // free list exactly as it was, so rank 0 and a stage that never tried pick the same blocks.
    void trialPlanLeavesTheFreeListAsItWas()
    {
        CpuBatchedContext tried(model_, params(0, 3), kThreads, nullptr);
        CpuBatchedContext untried(model_, params(3, 5), kThreads, nullptr);
        const SeqId s = tried.openSequence();
        QCOMPARE(untried.openSequence(), s);
        std::vector<BatchRow> rows;
        for (int i = 0; i < 13; ++i)
            rows.push_back({1 + i, s, false, false});
        tried.checkRows(rows, false);
        std::vector<float> stream;
        tried.decodeLayers(rows, stream);
        untried.decodeLayers(rows, stream);
        QCOMPARE(untried.sequenceBlocks(s), tried.sequenceBlocks(s));
    }

    void protocolRoundTripsAndRefusesMalformedMessages()
    {
        BatchPass m;
        m.kind = BatchPass::Pass;
        m.pass = 17;
        m.freeBlocks = 9;
        m.log = {int32_t(TableOp::Open), 3, int32_t(TableOp::Close), 1};
        m.rows = {{5, 3, true, false}, {6, 3, false, true}};
        m.stream = {1.5f, -2.0f, 3.25f};
        m.stages = {{12.5, 1000}, {7.0, 2000}};
        m.error = "why";
        const std::vector<uint8_t> bytes = encodeBatchPass(m);
        BatchPass back;
        decodeBatchPass(bytes, back);
        QCOMPARE(back.kind, m.kind);
        QCOMPARE(back.pass, int64_t(17));
        QCOMPARE(back.freeBlocks, int64_t(9));
        QCOMPARE(back.log, m.log);
        QCOMPARE(back.rows.size(), size_t(2));
        QCOMPARE(back.rows[1].token, 6);
        QCOMPARE(back.rows[1].seq, 3);
        QVERIFY(back.rows[0].logits && !back.rows[0].embedding && back.rows[1].embedding && !back.rows[1].logits);
        QCOMPARE(back.stream, m.stream);
        QCOMPARE(back.stages[1].computeUs, 7.0);
        QCOMPARE(back.stages[1].residentBytes, uint64_t(2000));
        QCOMPARE(back.error, std::string("why"));

        std::vector<uint8_t> shorter(bytes.begin(), bytes.end() - 1), longer = bytes;
        longer.push_back(0);
        QVERIFY_THROWS_EXCEPTION(Error, decodeBatchPass(shorter, back));
        QVERIFY_THROWS_EXCEPTION(Error, decodeBatchPass(longer, back));
        QVERIFY_THROWS_EXCEPTION(Error, decodeBatchPass(std::vector<uint8_t>(10), back));
        std::vector<uint8_t> huge = bytes; // the row count (5th word) claims 2^62 rows
        const int64_t lots = int64_t(1) << 62;
        std::memcpy(huge.data() + 4 * 8, &lots, 8);
        QVERIFY_THROWS_EXCEPTION(Error, decodeBatchPass(huge, back));

        StageReport report;
        report.ok = 1;
        report.passes = 4;
        report.computeMs = 2.5;
        report.kvBytes = 77;
        report.peakRssBytes = 88;
        report.error = "none";
        StageReport r2;
        decodeStageReport(encodeStageReport(report), r2);
        QCOMPARE(r2.passes, int64_t(4));
        QCOMPARE(r2.peakRssBytes, uint64_t(88));
        QCOMPARE(r2.error, std::string("none"));
        std::vector<uint8_t> cut = encodeStageReport(report);
        cut.pop_back();
        QVERIFY_THROWS_EXCEPTION(Error, decodeStageReport(cut, r2));
    }

    // A log that ends inside a command, names an unknown one, or gives another id than rank 0's
    // is refused with an Error that says so.
    void replayRefusesBadLogs()
    {
        CpuBatchedContext ctx(model_, params(3, 5), kThreads, nullptr);
        const std::vector<int32_t> cutAdopt{int32_t(TableOp::Adopt), 8, 0, 2, 5};
        QVERIFY_THROWS_EXCEPTION(Error, replayTableLog(cutAdopt, ctx));
        const std::vector<int32_t> unknown{42};
        QVERIFY_THROWS_EXCEPTION(Error, replayTableLog(unknown, ctx));
        const std::vector<int32_t> wrongId{int32_t(TableOp::Open), 5};
        try {
            replayTableLog(wrongId, ctx);
            QFAIL("an open that gave another id was accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("out of step") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestPipelineStages)
#include "tst_pipeline_stages.moc"
