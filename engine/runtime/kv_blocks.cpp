#include "runtime/kv_blocks.h"

#include <string>
#include <unordered_map>

namespace tenfold {

KvBlockTable::KvBlockTable(int totalBlocks, int blockSize, int maxSequenceLength)
    : blockSize_(blockSize), maxLen_(maxSequenceLength)
{
    if (blockSize <= 0)
        throw InvalidArgument("KV block size must be positive, got " + std::to_string(blockSize));
    if (totalBlocks <= 0)
        throw InvalidArgument("the KV pool needs at least one block, got " +
                              std::to_string(totalBlocks));
    refs_.assign(size_t(totalBlocks), 0);
    free_.reserve(size_t(totalBlocks));
    // Hand out low block ids first (pop from the back).
    for (int b = totalBlocks - 1; b >= 0; --b)
        free_.push_back(b);
}

const KvBlockTable::Sequence& KvBlockTable::get(SeqId seq) const
{
    const auto it = seqs_.find(seq);
    if (it == seqs_.end())
        throw InvalidArgument("sequence " + std::to_string(seq) + " is not open");
    return it->second;
}

int KvBlockTable::take()
{
    const int b = free_.back();
    free_.pop_back();
    refs_[size_t(b)] = 1;
    return b;
}

void KvBlockTable::checkBlock(int block) const
{
    if (block < 0 || block >= totalBlocks() || refs_[size_t(block)] == 0)
        throw InvalidArgument("KV block " + std::to_string(block) + " is not in use");
}

int KvBlockTable::references(int block) const
{
    if (block < 0 || block >= totalBlocks())
        throw InvalidArgument("KV block " + std::to_string(block) + " does not exist");
    return refs_[size_t(block)];
}

void KvBlockTable::retain(int block)
{
    checkBlock(block);
    ++refs_[size_t(block)];
}

void KvBlockTable::release(int block)
{
    checkBlock(block);
    if (--refs_[size_t(block)] == 0)
        free_.push_back(block);
}

SeqId KvBlockTable::adopt(std::span<const int> blocks, int length)
{
    if (length < 0 || int64_t(length) > int64_t(blocks.size()) * blockSize_ || length > maxLen_ ||
        size_t((length + blockSize_ - 1) / blockSize_) != blocks.size())
        throw InvalidArgument(std::to_string(length) + " positions do not fill " +
                              std::to_string(blocks.size()) + " blocks of " + std::to_string(blockSize_));
    for (int b : blocks)
        checkBlock(b);
    Sequence s;
    s.length = length;
    s.blocks.assign(blocks.begin(), blocks.end());
    for (int b : blocks)
        ++refs_[size_t(b)];
    const SeqId id = nextId_++;
    seqs_.emplace(id, std::move(s));
    return id;
}

SeqId KvBlockTable::open()
{
    const SeqId id = nextId_++;
    seqs_.emplace(id, Sequence{});
    return id;
}

SeqId KvBlockTable::fork(SeqId from, int length)
{
    const Sequence& src = get(from);
    if (length < 0)
        length = src.length;
    if (length > src.length)
        throw InvalidArgument("cannot fork " + std::to_string(length) + " positions of sequence " +
                              std::to_string(from) + ", which holds " +
                              std::to_string(src.length));
    Sequence copy;
    copy.length = length;
    const size_t nBlocks = size_t((length + blockSize_ - 1) / blockSize_);
    copy.blocks.assign(src.blocks.begin(), src.blocks.begin() + std::ptrdiff_t(nBlocks));
    for (int b : copy.blocks)
        ++refs_[size_t(b)];
    const SeqId id = nextId_++;
    seqs_.emplace(id, std::move(copy));
    return id;
}

void KvBlockTable::close(SeqId seq)
{
    const auto it = seqs_.find(seq);
    if (it == seqs_.end())
        throw InvalidArgument("sequence " + std::to_string(seq) + " is not open");
    for (int b : it->second.blocks)
        release(b);
    seqs_.erase(it);
}

int KvBlockTable::length(SeqId seq) const { return get(seq).length; }

const std::vector<int>& KvBlockTable::blocks(SeqId seq) const { return get(seq).blocks; }

void KvBlockTable::truncate(SeqId seq, int length)
{
    if (length < 0)
        throw InvalidArgument("truncate length must not be negative, got " + std::to_string(length));
    get(seq); // names an unknown sequence
    auto& s = seqs_.at(seq);
    if (length >= s.length)
        return;
    const size_t keep = size_t((length + blockSize_ - 1) / blockSize_);
    for (size_t i = keep; i < s.blocks.size(); ++i)
        release(s.blocks[i]);
    s.blocks.resize(keep);
    s.length = length;
}

int KvBlockTable::blocksNeeded(SeqId seq, int nNew) const
{
    const Sequence& s = get(seq);
    if (nNew <= 0)
        return 0;
    const int have = int(s.blocks.size());
    const int want = (s.length + nNew + blockSize_ - 1) / blockSize_;
    const bool copyLast = s.length % blockSize_ != 0 && refs_[size_t(s.blocks.back())] > 1;
    return (want - have) + (copyLast ? 1 : 0);
}

KvBlockTable::Plan KvBlockTable::plan(std::span<const std::pair<SeqId, int>> appends)
{
    int need = 0;
    for (const auto& [seq, n] : appends) {
        const Sequence& s = get(seq);
        if (int64_t(s.length) + n > maxLen_)
            throw InvalidArgument("sequence " + std::to_string(seq) + " would grow to " +
                                  std::to_string(int64_t(s.length) + n) +
                                  " positions, more than its limit of " + std::to_string(maxLen_));
        need += blocksNeeded(seq, n);
    }
    if (need > freeBlocks())
        throw KvCacheFull("the batch needs " + std::to_string(need) + " KV blocks and " +
                          std::to_string(freeBlocks()) + " of " + std::to_string(totalBlocks()) +
                          " are free");
    Plan p;
    p.appends.assign(appends.begin(), appends.end());
    for (const auto& [seq, n] : appends) {
        Sequence& s = seqs_.at(seq);
        p.old.emplace_back(seq, s.blocks);
        if (n <= 0)
            continue;
        const int partial = s.length % blockSize_;
        if (partial != 0 && refs_[size_t(s.blocks.back())] > 1) {
            const int from = s.blocks.back();
            const int to = take();
            p.fresh.push_back(to);
            p.copies.push_back({from, to, partial});
            --refs_[size_t(from)]; // still >= 1: another sequence holds it
            p.unshared.push_back(from);
            s.blocks.back() = to;
        }
        const int want = (s.length + n + blockSize_ - 1) / blockSize_;
        while (int(s.blocks.size()) < want) {
            const int b = take();
            p.fresh.push_back(b);
            s.blocks.push_back(b);
        }
    }
    return p;
}

KvBlockTable::Plan KvBlockTable::planRows(std::span<const BatchRow> rows, int vocab, bool haveEmbeddingOutput)
{
    if (rows.empty())
        throw InvalidArgument("a batch needs at least one row");
    // New positions per sequence, in order of first appearance; each row's position follows the
    // sequence's cached ones (lengths only move at commit).
    std::vector<std::pair<SeqId, int>> appends;
    std::unordered_map<SeqId, size_t> index;
    std::vector<int32_t> positions(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        const BatchRow& r = rows[i];
        if (!contains(r.seq))
            throw InvalidArgument("batch row " + std::to_string(i) + " names sequence " + std::to_string(r.seq) +
                                  ", which is not open");
        if (r.token < 0 || r.token >= vocab)
            throw InvalidArgument("token id " + std::to_string(r.token) + " in batch row " + std::to_string(i) +
                                  " is outside the vocabulary of " + std::to_string(vocab));
        if (r.embedding && !haveEmbeddingOutput)
            throw InvalidArgument("a batch row asks for its embedding but no output was given");
        const auto [it, added] = index.emplace(r.seq, appends.size());
        if (added)
            appends.emplace_back(r.seq, 0);
        positions[i] = length(r.seq) + appends[it->second].second++;
    }
    Plan p = plan(appends);
    p.positions = std::move(positions);
    return p;
}

void KvBlockTable::commit(const Plan& plan)
{
    for (const auto& [seq, n] : plan.appends)
        seqs_.at(seq).length += n;
}

void KvBlockTable::rollback(Plan& plan)
{
    for (auto& [seq, blocks] : plan.old)
        seqs_.at(seq).blocks = std::move(blocks);
    for (int b : plan.unshared)
        ++refs_[size_t(b)];
    // In reverse order of taking, so the free list is exactly as before: a pipeline's stages
    // (dist/pipeline_batched.h) replay rank 0's commands without its trial plans and must pick
    // the same blocks.
    for (auto b = plan.fresh.rbegin(); b != plan.fresh.rend(); ++b)
        release(*b);
    plan = Plan{};
}

} // namespace tenfold
