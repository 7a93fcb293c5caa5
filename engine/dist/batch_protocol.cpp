#include "dist/batch_protocol.h"

#include <cstring>

namespace tenfold::dist {
namespace {

struct PassHeader {
    int64_t kind, pass, freeBlocks, nLog, nRows, nFloats, nStages, nError;
};

struct WireRow {
    int32_t token, seq, flags; // flags: 1 logits, 2 embedding
};

struct ReportHeader {
    int64_t ok, passes;
    double computeMs;
    uint64_t kvBytes, peakRssBytes;
    int64_t nError;
};

class Writer {
public:
    explicit Writer(size_t bytes) : out_(bytes) {}
    void put(const void* p, size_t n)
    {
        if (n)
            std::memcpy(out_.data() + at_, p, n);
        at_ += n;
    }
    std::vector<uint8_t> take() { return std::move(out_); }

private:
    std::vector<uint8_t> out_;
    size_t at_ = 0;
};

} // namespace

std::vector<uint8_t> encodeBatchPass(const BatchPass& m)
{
    const PassHeader h{m.kind,
                       m.pass,
                       m.freeBlocks,
                       int64_t(m.log.size()),
                       int64_t(m.rows.size()),
                       int64_t(m.stream.size()),
                       int64_t(m.stages.size()),
                       int64_t(m.error.size())};
    Writer w(sizeof h + m.log.size() * 4 + m.rows.size() * sizeof(WireRow) + m.stream.size() * 4 +
             m.stages.size() * sizeof(StageFigures) + m.error.size());
    w.put(&h, sizeof h);
    w.put(m.log.data(), m.log.size() * 4);
    for (const BatchRow& r : m.rows) {
        const WireRow wr{r.token, r.seq, (r.logits ? 1 : 0) | (r.embedding ? 2 : 0)};
        w.put(&wr, sizeof wr);
    }
    w.put(m.stream.data(), m.stream.size() * 4);
    w.put(m.stages.data(), m.stages.size() * sizeof(StageFigures));
    w.put(m.error.data(), m.error.size());
    return w.take();
}

void decodeBatchPass(std::span<const uint8_t> bytes, BatchPass& m)
{
    PassHeader h{};
    if (bytes.size() < sizeof h)
        throw Error("a pipeline message of " + std::to_string(bytes.size()) + " bytes is shorter than its header");
    std::memcpy(&h, bytes.data(), sizeof h);
    // Each count is checked against the bytes before any multiplication can overflow.
    const uint64_t limit = bytes.size();
    if (h.kind < BatchPass::Pass || h.kind > BatchPass::Failed || h.nLog < 0 || h.nRows < 0 || h.nFloats < 0 ||
        h.nStages < 0 || h.nError < 0 || uint64_t(h.nLog) > limit || uint64_t(h.nRows) > limit ||
        uint64_t(h.nFloats) > limit || uint64_t(h.nStages) > limit || uint64_t(h.nError) > limit ||
        bytes.size() != sizeof h + uint64_t(h.nLog) * 4 + uint64_t(h.nRows) * sizeof(WireRow) +
                            uint64_t(h.nFloats) * 4 + uint64_t(h.nStages) * sizeof(StageFigures) +
                            uint64_t(h.nError))
        throw Error("a pipeline message of " + std::to_string(bytes.size()) + " bytes does not match its header");
    const uint8_t* at = bytes.data() + sizeof h;
    m.kind = h.kind;
    m.pass = h.pass;
    m.freeBlocks = h.freeBlocks;
    m.log.resize(size_t(h.nLog));
    if (h.nLog)
        std::memcpy(m.log.data(), at, size_t(h.nLog) * 4);
    at += size_t(h.nLog) * 4;
    m.rows.resize(size_t(h.nRows));
    for (BatchRow& r : m.rows) {
        WireRow wr;
        std::memcpy(&wr, at, sizeof wr);
        at += sizeof wr;
        r.token = wr.token;
        r.seq = wr.seq;
        r.logits = (wr.flags & 1) != 0;
        r.embedding = (wr.flags & 2) != 0;
    }
    m.stream.resize(size_t(h.nFloats));
    if (h.nFloats)
        std::memcpy(m.stream.data(), at, size_t(h.nFloats) * 4);
    at += size_t(h.nFloats) * 4;
    m.stages.resize(size_t(h.nStages));
    if (h.nStages)
        std::memcpy(m.stages.data(), at, size_t(h.nStages) * sizeof(StageFigures));
    at += size_t(h.nStages) * sizeof(StageFigures);
    m.error.assign(reinterpret_cast<const char*>(at), size_t(h.nError));
}

void replayTableLog(std::span<const int32_t> log, BatchedContext& ctx)
{
    size_t i = 0;
    auto need = [&](size_t n, const char* what) {
        if (log.size() - i < n)
            throw Error(std::string("the block-table log ends inside a ") + what + " command");
    };
    auto expect = [](SeqId got, int32_t want, const char* what) {
        if (got != want)
            throw Error(std::string("the block tables are out of step: ") + what + " gave sequence " +
                        std::to_string(got) + " here, " + std::to_string(want) + " on rank 0");
    };
    while (i < log.size()) {
        const TableOp op = TableOp(log[i++]);
        switch (op) {
        case TableOp::Open:
            need(1, "open");
            expect(ctx.openSequence(), log[i], "open");
            i += 1;
            break;
        case TableOp::Fork:
            need(3, "fork");
            expect(ctx.forkSequence(log[i], log[i + 1]), log[i + 2], "fork");
            i += 3;
            break;
        case TableOp::Close:
            need(1, "close");
            ctx.closeSequence(log[i]);
            i += 1;
            break;
        case TableOp::Truncate:
            need(2, "truncate");
            ctx.truncateSequence(log[i], log[i + 1]);
            i += 2;
            break;
        case TableOp::Retain:
            need(1, "retain");
            ctx.retainBlock(log[i]);
            i += 1;
            break;
        case TableOp::Release:
            need(1, "release");
            ctx.releaseBlock(log[i]);
            i += 1;
            break;
        case TableOp::Adopt: {
            need(3, "adopt");
            const int32_t length = log[i], id = log[i + 1], n = log[i + 2];
            i += 3;
            if (n < 0)
                throw Error("an adopt command of " + std::to_string(n) + " blocks");
            need(size_t(n), "adopt");
            expect(ctx.openSequenceWithBlocks(log.subspan(i, size_t(n)), length), id, "adopt");
            i += size_t(n);
            break;
        }
        default:
            throw Error("unknown block-table command " + std::to_string(int32_t(op)));
        }
    }
}

std::vector<uint8_t> encodeStageReport(const StageReport& r)
{
    const ReportHeader h{r.ok, r.passes, r.computeMs, r.kvBytes, r.peakRssBytes, int64_t(r.error.size())};
    Writer w(sizeof h + r.error.size());
    w.put(&h, sizeof h);
    w.put(r.error.data(), r.error.size());
    return w.take();
}

void decodeStageReport(std::span<const uint8_t> bytes, StageReport& r)
{
    ReportHeader h{};
    if (bytes.size() < sizeof h)
        throw Error("a stage report of " + std::to_string(bytes.size()) + " bytes is shorter than its header");
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.nError < 0 || uint64_t(h.nError) != bytes.size() - sizeof h)
        throw Error("a stage report of " + std::to_string(bytes.size()) + " bytes does not match its header");
    r.ok = h.ok;
    r.passes = h.passes;
    r.computeMs = h.computeMs;
    r.kvBytes = h.kvBytes;
    r.peakRssBytes = h.peakRssBytes;
    r.error.assign(reinterpret_cast<const char*>(bytes.data() + sizeof h), size_t(h.nError));
}

} // namespace tenfold::dist
