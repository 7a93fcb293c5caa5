#include "eval/prompt_compression.h"

#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <random>

namespace tenfold {

namespace {

// Rows of logits computed per decode() while scoring: bounds the logits buffer to this many
// vocabulary-sized rows however long the prompt is.
constexpr int kScoreChunk = 128;

bool startsWithCue(std::string_view sentence)
{
    // Imperatives and labels that open an instruction. Matched as whole words, any case.
    static const std::array<std::string_view, 30> cues = {
        "answer", "summarize", "summarise", "explain", "write", "list", "describe", "translate",
        "give", "tell", "name", "classify", "respond", "reply", "please", "instruction", "instructions",
        "question", "task", "q", "you are", "do not", "don't", "use", "return", "output", "continue",
        "find", "compare", "rewrite"};
    size_t i = 0;
    // List markers and quotes before the first word: "- ", "1. ", "* ", "\"".
    while (i < sentence.size() && (std::isspace((unsigned char)sentence[i]) || sentence[i] == '-' ||
                                   sentence[i] == '*' || sentence[i] == '"' || std::isdigit((unsigned char)sentence[i]) ||
                                   (sentence[i] == '.' && i > 0 && std::isdigit((unsigned char)sentence[i - 1]))))
        ++i;
    const std::string_view rest = sentence.substr(i);
    for (std::string_view cue : cues) {
        if (rest.size() < cue.size())
            continue;
        bool same = true;
        for (size_t k = 0; k < cue.size() && same; ++k)
            same = std::tolower((unsigned char)rest[k]) == cue[k];
        if (!same)
            continue;
        if (rest.size() == cue.size() || !std::isalnum((unsigned char)rest[cue.size()]))
            return true;
    }
    return false;
}

// -ln softmax(row)[id], in double.
double surprisalOf(std::span<const float> row, int32_t id)
{
    return logSumExp(row) - double(row[size_t(id)]);
}

void checkCancel(const std::atomic<bool>* cancel)
{
    if (cancel && cancel->load(std::memory_order_relaxed))
        throw Cancelled();
}

std::vector<int32_t> withBos(const Tokenizer& tok, const std::vector<int32_t>& ids)
{
    std::vector<int32_t> out;
    out.reserve(ids.size() + 1);
    if (tok.bos() >= 0)
        out.push_back(tok.bos());
    out.insert(out.end(), ids.begin(), ids.end());
    return out;
}

// Continuation text as it would follow the prompt (keeps a leading space, unlike decode()).
std::string continuationText(const Tokenizer& tok, const std::vector<int32_t>& ids)
{
    StreamingDecoder decoder(tok);
    std::string out;
    for (int32_t id : ids)
        out += decoder.push(id);
    return out + decoder.flush();
}

int32_t argmax(std::span<const float> row)
{
    return int32_t(std::max_element(row.begin(), row.end()) - row.begin());
}

// log-softmax of a row, in double.
std::vector<double> logSoftmax(std::span<const float> row)
{
    const double lse = logSumExp(row);
    std::vector<double> out(row.size());
    for (size_t i = 0; i < row.size(); ++i)
        out[i] = double(row[i]) - lse;
    return out;
}

} // namespace

std::vector<std::pair<size_t, size_t>> instructionSpans(std::string_view text)
{
    std::vector<std::pair<size_t, size_t>> spans;
    size_t begin = 0;
    auto close = [&](size_t end) {
        // Trim white space on both sides; empty sentences are skipped.
        size_t b = begin, e = end;
        while (b < e && std::isspace((unsigned char)text[b]))
            ++b;
        while (e > b && std::isspace((unsigned char)text[e - 1]))
            --e;
        if (b < e) {
            const std::string_view s = text.substr(b, e - b);
            const bool question = s.back() == '?' || (s.size() >= 3 && s.substr(s.size() - 3) == "\xEF\xBC\x9F");
            if (question || startsWithCue(s))
                spans.emplace_back(b, e);
        }
        begin = end;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            close(i + 1);
        } else if ((c == '.' || c == '!' || c == '?') &&
                   (i + 1 == text.size() || std::isspace((unsigned char)text[i + 1]))) {
            // "1. List ...": a list number's dot does not end a sentence.
            size_t b = begin;
            while (b < i && std::isspace((unsigned char)text[b]))
                ++b;
            bool listNumber = c == '.' && b < i;
            for (size_t k = b; k < i && listNumber; ++k)
                listNumber = std::isdigit((unsigned char)text[k]);
            if (!listNumber)
                close(i + 1);
        } else if (i + 3 <= text.size() &&
                   (text.substr(i, 3) == "\xE3\x80\x82" /* 。 */ || text.substr(i, 3) == "\xEF\xBC\x9F" /* ？ */ ||
                    text.substr(i, 3) == "\xEF\xBC\x81" /* ！ */)) {
            close(i + 3);
            i += 2;
        }
    }
    close(text.size());
    return spans;
}

CompressionResult compressPrompt(InferenceContext& scorer, const Tokenizer& tok, const std::string& text,
                                 const CompressionOptions& options, const std::atomic<bool>* cancel)
{
    if (!(options.keepRatio > 0.0 && options.keepRatio <= 1.0))
        throw InvalidArgument("compression ratio must be in (0, 1], got " + std::to_string(options.keepRatio));
    const std::vector<int32_t> ids = tok.encode(text, false);
    if (ids.empty())
        throw InvalidArgument("the prompt to compress is empty");
    const std::vector<int32_t> input = withBos(tok, ids);
    if (int(input.size()) > scorer.contextSize())
        throw InvalidArgument("the prompt has " + std::to_string(ids.size()) + " tokens, more than the scoring model's context (" +
                              std::to_string(scorer.contextSize()) + ")");

    // Surprisal of every token. Row r of the logits predicts input[r + 1]; without a BOS token the
    // first token has no prediction and is always kept.
    CompressionResult result;
    result.originalTokens = int(ids.size());
    result.tokens.resize(ids.size());
    const size_t offset = input.size() - ids.size(); // 1 with BOS, 0 without
    scorer.truncate(0);
    std::vector<float> logits;
    for (size_t start = 0; start < input.size(); start += kScoreChunk) {
        checkCancel(cancel);
        const size_t n = std::min<size_t>(kScoreChunk, input.size() - start);
        scorer.decode(std::span<const int32_t>(input.data() + start, n), true, logits, cancel);
        const size_t vocab = logits.size() / n;
        for (size_t r = 0; r < n; ++r) {
            const size_t predicted = start + r + 1; // index into input
            if (predicted >= input.size())
                break;
            const size_t t = predicted - offset;
            result.tokens[t].id = ids[t];
            result.tokens[t].surprisal =
                float(surprisalOf(std::span<const float>(logits.data() + r * vocab, vocab), ids[t]));
        }
    }
    scorer.truncate(0);
    if (offset == 0) {
        result.tokens[0].id = ids[0];
        result.tokens[0].surprisal = std::numeric_limits<float>::infinity();
    }

    // Byte ranges of the tokens, to group them into words and to map protected sentences.
    std::vector<std::string> bytes(ids.size());
    std::vector<size_t> tokenStart(ids.size());
    size_t pos = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        bytes[i] = tok.tokenBytes(ids[i]);
        tokenStart[i] = pos;
        pos += bytes[i].size();
    }
    // SentencePiece puts a space before the first word; the text itself may not have it.
    const std::string joined = [&] {
        std::string s;
        for (const std::string& b : bytes)
            s += b;
        return s;
    }();
    const size_t shift = (joined.size() == text.size() + 1 && !joined.empty() && joined[0] == ' ') ? 1 : 0;

    if (options.keepInstructions) {
        for (const auto& [b, e] : instructionSpans(text)) {
            for (size_t i = 0; i < ids.size(); ++i) {
                const size_t tb = tokenStart[i] >= shift ? tokenStart[i] - shift : 0;
                const size_t te = tb + bytes[i].size();
                if (tb < e && te > b)
                    result.tokens[i].protectedSpan = true;
            }
        }
    }

    // Words: a token starting with white space or punctuation, or following a line break, starts one.
    struct Word {
        size_t first, last; // token indices, inclusive
        double score = 0;   // mean surprisal
        bool protectedSpan = false;
    };
    std::vector<Word> words;
    for (size_t i = 0; i < ids.size(); ++i) {
        const std::string& b = bytes[i];
        const bool starts = i == 0 || b.empty() || std::isspace((unsigned char)b[0]) ||
                            std::ispunct((unsigned char)b[0]) ||
                            (!bytes[i - 1].empty() && bytes[i - 1].back() == '\n');
        if (starts)
            words.push_back({i, i});
        else
            words.back().last = i;
    }
    for (Word& w : words) {
        double sum = 0;
        for (size_t i = w.first; i <= w.last; ++i) {
            sum += result.tokens[i].surprisal;
            w.protectedSpan = w.protectedSpan || result.tokens[i].protectedSpan;
        }
        w.score = sum / double(w.last - w.first + 1);
    }
    if (options.randomBaselineSeed != 0) {
        std::mt19937_64 rng(options.randomBaselineSeed);
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        for (Word& w : words)
            w.score = uniform(rng);
    }

    const int budget = std::max(1, int(std::floor(options.keepRatio * double(ids.size()) + 1e-9)));
    result.tokenBudget = budget;
    if (options.tailShare > 0) {
        const int tail = int(std::floor(options.tailShare * budget));
        int taken = 0;
        for (size_t k = words.size(); k-- > 0;) {
            const int size = int(words[k].last - words[k].first + 1);
            if (taken + size > tail)
                break;
            taken += size;
            words[k].protectedSpan = true;
            for (size_t i = words[k].first; i <= words[k].last; ++i)
                result.tokens[i].protectedSpan = true;
        }
    }
    int used = 0;
    std::vector<size_t> order;
    for (size_t k = 0; k < words.size(); ++k) {
        if (words[k].protectedSpan) {
            for (size_t i = words[k].first; i <= words[k].last; ++i)
                result.tokens[i].kept = true;
            used += int(words[k].last - words[k].first + 1);
        } else {
            order.push_back(k);
        }
    }
    // Most surprising first; ties keep the earlier word.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return words[a].score > words[b].score; });
    for (size_t k : order) {
        const int size = int(words[k].last - words[k].first + 1);
        if (used + size > budget)
            continue;
        for (size_t i = words[k].first; i <= words[k].last; ++i)
            result.tokens[i].kept = true;
        used += size;
    }

    // Kept tokens in order. Where dropped words held the only white space between two kept
    // ones ("morning.\nQuestion"), a line break or a space takes their place, so words do not
    // run together.
    std::string out;
    bool gapNewline = false, gapSpace = false;
    for (size_t i = 0; i < ids.size(); ++i) {
        const std::string& b = bytes[i];
        if (!result.tokens[i].kept) {
            gapNewline = gapNewline || b.find('\n') != std::string::npos;
            gapSpace = gapSpace || b.find_first_of(" \t") != std::string::npos;
            continue;
        }
        const bool joined = out.empty() || std::isspace((unsigned char)out.back()) ||
                            (!b.empty() && std::isspace((unsigned char)b[0]));
        if (!joined && (gapNewline || gapSpace))
            out += gapNewline ? '\n' : ' ';
        gapNewline = gapSpace = false;
        out += b;
    }
    if (shift && !out.empty() && out[0] == ' ')
        out.erase(0, 1);
    result.text = std::move(out);
    result.compressedTokens = int(tok.encode(result.text, false).size());
    return result;
}

ContinuationComparison compareContinuations(InferenceContext& ctx, const Tokenizer& tok,
                                            const std::string& originalPrompt,
                                            const std::string& compressedPrompt, int tokens,
                                            const std::atomic<bool>* cancel)
{
    if (tokens < 1)
        throw InvalidArgument("the continuation needs at least one token");
    const std::vector<int32_t> original = withBos(tok, tok.encode(originalPrompt, false));
    const std::vector<int32_t> compressed = withBos(tok, tok.encode(compressedPrompt, false));
    for (const auto* p : {&original, &compressed})
        if (int(p->size()) + tokens > ctx.contextSize())
            throw InvalidArgument("a prompt of " + std::to_string(p->size()) + " tokens plus " +
                                  std::to_string(tokens) + " continuation tokens does not fit the context (" +
                                  std::to_string(ctx.contextSize()) + ")");

    ContinuationComparison out;
    std::vector<float> logits;
    // The original prompt's greedy continuation and its distributions.
    std::vector<std::vector<double>> reference;
    std::vector<int32_t> continuation;
    ctx.truncate(0);
    ctx.decode(original, false, logits, cancel);
    for (int k = 0; k < tokens; ++k) {
        checkCancel(cancel);
        reference.push_back(logSoftmax(logits));
        const int32_t next = argmax(logits);
        if (tok.isEndOfGeneration(next))
            break;
        continuation.push_back(next);
        if (k + 1 < tokens) {
            const int32_t one[1] = {next};
            ctx.decode(one, false, logits, cancel);
        }
    }
    // The same tokens after the compressed prompt: the distributions the answer would have had.
    ctx.truncate(0);
    ctx.decode(compressed, false, logits, cancel);
    double sum = 0;
    int same = 0;
    for (size_t k = 0; k < reference.size(); ++k) {
        checkCancel(cancel);
        const std::vector<double> q = logSoftmax(logits);
        const std::vector<double>& p = reference[k];
        double kl = 0;
        for (size_t v = 0; v < p.size(); ++v)
            kl += std::exp(p[v]) * (p[v] - q[v]);
        kl = std::max(0.0, kl); // rounding can leave -1e-17 for identical rows
        sum += kl;
        out.maxKld = std::max(out.maxKld, kl);
        same += std::max_element(p.begin(), p.end()) - p.begin() == std::max_element(q.begin(), q.end()) - q.begin();
        if (k < continuation.size() && k + 1 < reference.size()) {
            const int32_t one[1] = {continuation[k]};
            ctx.decode(one, false, logits, cancel);
        }
    }
    out.positions = int(reference.size());
    out.meanKld = out.positions ? sum / out.positions : 0;
    out.sameTopToken = out.positions ? double(same) / out.positions : 1.0;
    out.originalContinuation = continuationText(tok, continuation);

    // The compressed prompt's own greedy answer, for a side-by-side reading.
    std::vector<int32_t> own;
    ctx.truncate(0);
    ctx.decode(compressed, false, logits, cancel);
    for (int k = 0; k < tokens; ++k) {
        checkCancel(cancel);
        const int32_t next = argmax(logits);
        if (tok.isEndOfGeneration(next))
            break;
        own.push_back(next);
        if (k + 1 < tokens) {
            const int32_t one[1] = {next};
            ctx.decode(one, false, logits, cancel);
        }
    }
    ctx.truncate(0);
    out.compressedContinuation = continuationText(tok, own);
    return out;
}

} // namespace tenfold
