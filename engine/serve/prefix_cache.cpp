#include "serve/prefix_cache.h"

#include <algorithm>

namespace tenfold {

PrefixCache::PrefixCache(BatchedContext& ctx, int maxBlocks) : ctx_(ctx), maxBlocks_(std::max(0, maxBlocks)) {}

PrefixCache::~PrefixCache() { clear(); }

void PrefixCache::releaseAll(Node& n)
{
    for (auto& [key, child] : n.children) {
        releaseAll(*child);
        ctx_.releaseBlock(child->block);
        --held_;
    }
    n.children.clear();
    for (const Tail& t : n.tails) {
        ctx_.releaseBlock(t.block);
        --held_;
    }
    n.tails.clear();
}

void PrefixCache::clear() { releaseAll(root_); }

namespace {

size_t commonPrefix(std::span<const int32_t> a, std::span<const int32_t> b)
{
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

} // namespace

PrefixMatch PrefixCache::lookup(std::span<const int32_t> tokens, int maxTokens)
{
    PrefixMatch m;
    ++stats_.lookups;
    const size_t bs = size_t(ctx_.blockSize());
    const size_t limit = std::min(tokens.size(), size_t(std::max(0, maxTokens)));
    Node* node = &root_;
    const uint64_t now = ++clock_;
    std::vector<int32_t> key(bs);
    size_t at = 0;
    for (; at + bs <= limit; at += bs) {
        std::copy(tokens.begin() + std::ptrdiff_t(at), tokens.begin() + std::ptrdiff_t(at + bs), key.begin());
        const auto it = node->children.find(key);
        if (it == node->children.end())
            break;
        node = it->second.get();
        node->lastUse = now;
        m.blocks.push_back(node->block);
    }
    // The rest may start a block the cache holds (a full block's first positions, or the partly
    // filled last block of an earlier sequence): share it for the tokens that match.
    const std::span<const int32_t> rest = tokens.subspan(at, limit - at);
    size_t best = 0;
    int bestBlock = -1;
    uint64_t* bestUse = nullptr;
    if (!rest.empty()) {
        for (auto& [k, child] : node->children)
            if (const size_t c = commonPrefix(k, rest); c > best) {
                best = c;
                bestBlock = child->block;
                bestUse = &child->lastUse;
            }
        for (Tail& t : node->tails)
            if (const size_t c = commonPrefix(t.tokens, rest); c > best) {
                best = c;
                bestBlock = t.block;
                bestUse = &t.lastUse;
            }
    }
    m.tokens = int(m.blocks.size() * bs);
    if (best > 0) {
        m.blocks.push_back(bestBlock);
        m.tokens += int(best);
        *bestUse = now;
    }
    if (m.tokens > 0) {
        ++stats_.hits;
        stats_.tokensReused += uint64_t(m.tokens);
    }
    return m;
}

void PrefixCache::insert(std::span<const int32_t> tokens, SeqId seq)
{
    if (maxBlocks_ == 0)
        return;
    const size_t bs = size_t(ctx_.blockSize());
    const size_t length = std::min(size_t(ctx_.sequenceLength(seq)), tokens.size());
    const std::vector<int> blocks = ctx_.sequenceBlocks(seq);
    Node* node = &root_;
    const uint64_t now = ++clock_;
    size_t b = 0;
    for (; (b + 1) * bs <= length && b < blocks.size(); ++b) {
        std::vector<int32_t> key(tokens.begin() + std::ptrdiff_t(b * bs), tokens.begin() + std::ptrdiff_t((b + 1) * bs));
        auto it = node->children.find(key);
        if (it == node->children.end()) {
            auto child = std::make_unique<Node>();
            child->key = std::move(key);
            child->block = blocks[b];
            child->parent = node;
            ctx_.retainBlock(blocks[b]);
            ++held_;
            it = node->children.emplace(child->key, std::move(child)).first;
        }
        node = it->second.get();
        node->lastUse = now;
    }
    // The partly filled last block becomes a tail of the last full block's node, unless a tail
    // (or a full block) there already covers its tokens.
    if (b < blocks.size() && b * bs < length) {
        const std::span<const int32_t> part = tokens.subspan(b * bs, length - b * bs);
        bool covered = false;
        for (auto& [k, child] : node->children)
            covered = covered || commonPrefix(k, part) == part.size();
        for (auto it = node->tails.begin(); it != node->tails.end() && !covered;) {
            const size_t c = commonPrefix(it->tokens, part);
            if (c == part.size()) {
                covered = true;
                it->lastUse = now;
            } else if (c == it->tokens.size() && ctx_.blockReferences(it->block) == 1) {
                // A shorter version of the same text nobody uses: the longer one replaces it.
                ctx_.releaseBlock(it->block);
                --held_;
                it = node->tails.erase(it);
                continue;
            }
            ++it;
        }
        if (!covered && node->tails.size() < kMaxTailsPerNode) {
            ctx_.retainBlock(blocks[b]);
            ++held_;
            node->tails.push_back({std::vector<int32_t>(part.begin(), part.end()), blocks[b], now});
        }
    }
    if (held_ > maxBlocks_)
        evict(held_ - maxBlocks_);
}

void PrefixCache::collectEvictable(Node& n, std::vector<Victim>& out)
{
    for (size_t i = 0; i < n.tails.size(); ++i)
        if (ctx_.blockReferences(n.tails[i].block) == 1)
            out.push_back({&n, int(i), n.tails[i].lastUse});
    for (auto& [key, child] : n.children) {
        if (child->children.empty() && child->tails.empty()) {
            // Only blocks no sequence holds can go back to the pool.
            if (ctx_.blockReferences(child->block) == 1)
                out.push_back({child.get(), -1, child->lastUse});
        } else {
            collectEvictable(*child, out);
        }
    }
}

int PrefixCache::evict(int want)
{
    int freed = 0;
    while (freed < want) {
        std::vector<Victim> victims;
        collectEvictable(root_, victims);
        if (victims.empty())
            break;
        // The least recently used goes; its parent may be the next one.
        const Victim v = *std::min_element(victims.begin(), victims.end(),
                                           [](const Victim& a, const Victim& b) { return a.lastUse < b.lastUse; });
        if (v.tail >= 0) {
            ctx_.releaseBlock(v.node->tails[size_t(v.tail)].block);
            v.node->tails.erase(v.node->tails.begin() + v.tail);
        } else {
            ctx_.releaseBlock(v.node->block);
            v.node->parent->children.erase(v.node->key);
        }
        --held_;
        ++freed;
        ++stats_.evictedBlocks;
    }
    return freed;
}

void PrefixCache::collectPrefixes(const Node& n, CachedPrefix& path, std::vector<CachedPrefix>& out)
{
    for (const Tail& t : n.tails) {
        CachedPrefix p = path;
        p.tokens.insert(p.tokens.end(), t.tokens.begin(), t.tokens.end());
        p.blocks.push_back(t.block);
        p.lastUse = std::max(path.lastUse, t.lastUse);
        out.push_back(std::move(p));
    }
    if (n.children.empty() && n.tails.empty() && !path.blocks.empty())
        out.push_back(path);
    for (const auto& [key, child] : n.children) {
        const uint64_t before = path.lastUse;
        path.tokens.insert(path.tokens.end(), key.begin(), key.end());
        path.blocks.push_back(child->block);
        path.lastUse = std::max(before, child->lastUse);
        collectPrefixes(*child, path, out);
        path.tokens.resize(path.tokens.size() - key.size());
        path.blocks.pop_back();
        path.lastUse = before;
    }
}

std::vector<CachedPrefix> PrefixCache::prefixes() const
{
    std::vector<CachedPrefix> out;
    CachedPrefix path;
    collectPrefixes(root_, path, out);
    std::stable_sort(out.begin(), out.end(), [](const CachedPrefix& a, const CachedPrefix& b) { return a.lastUse > b.lastUse; });
    return out;
}

PrefixCacheStats PrefixCache::stats() const
{
    PrefixCacheStats s = stats_;
    s.blocksHeld = held_;
    return s;
}

} // namespace tenfold
