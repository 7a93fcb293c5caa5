#include "tokenizer/pre_tokenizer.h"

#include "core/error.h"
#include "tokenizer/unicode.h"

#include <algorithm>
#include <map>

namespace tenfold {

namespace {

using unicode::CharClass;
using unicode::classOf;

bool isWs(uint32_t c) { return classOf(c) == CharClass::Whitespace; }
bool isL(uint32_t c) { return classOf(c) == CharClass::Letter; }
bool isN(uint32_t c) { return classOf(c) == CharClass::Number; }
bool isP(uint32_t c) { return classOf(c) == CharClass::Punctuation; }
// [^\s\p{L}\p{N}]
bool isOther(uint32_t c)
{
    const CharClass k = classOf(c);
    return k != CharClass::Whitespace && k != CharClass::Letter && k != CharClass::Number;
}
bool isCrLf(uint32_t c) { return c == '\r' || c == '\n'; }
uint32_t asciiLower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

template <typename Pred>
size_t runLength(const uint32_t* c, size_t p, size_t end, Pred pred)
{
    size_t q = p;
    while (q < end && pred(c[q]))
        ++q;
    return q - p;
}

// Runs a matcher over a fragment the way std::regex_iterator does: the leftmost match from the
// current position, with the text between matches kept as pieces of its own.
template <typename Matcher>
void splitWith(const uint32_t* c, size_t begin, size_t end, std::vector<size_t>& out, Matcher match)
{
    size_t p = begin, gapStart = begin;
    while (p < end) {
        const size_t m = match(c, p, end);
        if (m == 0) {
            ++p;
            continue;
        }
        if (p > gapStart)
            out.push_back(p - gapStart);
        out.push_back(m);
        p += m;
        gapStart = p;
    }
    if (end > gapStart)
        out.push_back(end - gapStart);
}

// 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive; 0 when none matches at p.
size_t contraction(const uint32_t* c, size_t p, size_t end, bool anyCase)
{
    if (c[p] != '\'' || p + 1 >= end)
        return 0;
    const auto low = [&](uint32_t x) { return anyCase ? asciiLower(x) : x; };
    const uint32_t a = low(c[p + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (p + 2 < end) {
        const uint32_t b = low(c[p + 2]);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    return 0;
}

// \s+(?!\S) at p: a whitespace run, minus its last character when non-space follows it.
size_t wsNotBeforeNonWs(const uint32_t* c, size_t p, size_t end)
{
    const size_t k = runLength(c, p, end, isWs);
    if (k == 0)
        return 0;
    if (p + k == end)
        return k;
    return k >= 2 ? k - 1 : 0;
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
size_t matchGpt2(const uint32_t* c, size_t p, size_t end)
{
    if (size_t m = contraction(c, p, end, false))
        return m;
    const bool spaceThen = c[p] == ' ' && p + 1 < end;
    for (auto pred : {isL, isN, isOther}) {
        if (spaceThen && pred(c[p + 1]))
            return 1 + runLength(c, p + 1, end, pred);
        if (pred(c[p]))
            return runLength(c, p, end, pred);
    }
    return wsNotBeforeNonWs(c, p, end);
}

// The alternatives Llama 3 and the case-split regexes end with, where isTrail is [\r\n] or
// [\r\n/]: \p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+isTrail*|\s*[\r\n]+|\s+(?!\S)|\s+
template <size_t maxDigits, typename TrailPred>
size_t matchNumberSymbolSpace(const uint32_t* c, size_t p, size_t end, TrailPred isTrail)
{
    const uint32_t cp = c[p];
    if (isN(cp))
        return std::min(maxDigits, runLength(c, p, end, isN));
    const bool spaceThenOther = cp == ' ' && p + 1 < end && isOther(c[p + 1]);
    if (spaceThenOther || isOther(cp)) {
        size_t q = spaceThenOther ? p + 1 : p;
        q += runLength(c, q, end, isOther);
        q += runLength(c, q, end, isTrail);
        return q - p;
    }
    const size_t k = runLength(c, p, end, isWs);
    if (k == 0)
        return 0;
    for (size_t i = k; i-- > 0;)
        if (isCrLf(c[p + i]))
            return i + 1;
    if (p + k == end || k == 1)
        return k;
    return k - 1;
}

// Llama 3 (maxDigits 3) and Qwen2 (maxDigits 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
template <size_t maxDigits>
size_t matchLlama3(const uint32_t* c, size_t p, size_t end)
{
    if (size_t m = contraction(c, p, end, true))
        return m;
    const uint32_t cp = c[p];
    if (isL(cp))
        return runLength(c, p, end, isL);
    if (!isCrLf(cp) && !isN(cp) && p + 1 < end && isL(c[p + 1]))
        return 1 + runLength(c, p + 1, end, isL);
    return matchNumberSymbolSpace<maxDigits>(c, p, end, isCrLf);
}

// GPT-4o and Tekken (Mistral Nemo), as llama.cpp runs them: case classes [\p{Lu}\p{Lt}...] are
// approximated by "a letter that is not a-z" (upper-like, U) and "a letter that is not A-Z"
// (lower-like, W), so non-ASCII letters count as both.
//   [^\r\n\p{L}\p{N}]?U*W+C?|[^\r\n\p{L}\p{N}]?U+W*C?|\p{N}{1,n}| ?[^\s\p{L}\p{N}]+[\r\n/]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+        (C: an optional contraction, GPT-4o only)
bool isUpperLike(uint32_t c) { return isL(c) && !(c >= 'a' && c <= 'z'); }
bool isLowerLike(uint32_t c) { return isL(c) && !(c >= 'A' && c <= 'Z'); }
bool isCrLfSlash(uint32_t c) { return c == '\r' || c == '\n' || c == '/'; }

template <size_t maxDigits, bool contractions>
size_t matchCaseSplit(const uint32_t* c, size_t p, size_t end)
{
    const auto withContraction = [&](size_t e) {
        if (contractions && e < end)
            e += contraction(c, e, end, true);
        return e - p;
    };
    const uint32_t cp = c[p];
    const bool prefix = !isCrLf(cp) && !isL(cp) && !isN(cp);
    const size_t s = prefix ? p + 1 : p; // without the prefix nothing can match at a non-letter
    if (s < end) {
        // U*W+: the longest U* after which a W+ can start, backtracking one at a time.
        const size_t k = runLength(c, s, end, isUpperLike);
        for (size_t j = k + 1; j-- > 0;) {
            if (s + j < end && isLowerLike(c[s + j]))
                return withContraction(s + j + runLength(c, s + j, end, isLowerLike));
        }
        // U+W*
        if (k > 0)
            return withContraction(s + k + runLength(c, s + k, end, isLowerLike));
    }
    return matchNumberSymbolSpace<maxDigits>(c, p, end, isCrLfSlash);
}

// ---- stages ----
void stageGpt4o(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, matchCaseSplit<3, true>);
}
void stageTekken(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, matchCaseSplit<1, false>);
}
void stageGpt2(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, matchGpt2);
}
void stageLlama3(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, matchLlama3<3>);
}
void stageQwen2(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, matchLlama3<1>);
}

// [pred]+
template <bool (*pred)(uint32_t)>
void stageRun(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, [](const uint32_t* c, size_t p, size_t end) {
        return runLength(c, p, end, pred);
    });
}
// [pred]
template <bool (*pred)(uint32_t)>
void stageSingle(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, [](const uint32_t* c, size_t p, size_t) -> size_t { return pred(c[p]); });
}
// \s?[pred]+
template <bool (*pred)(uint32_t)>
void stageOptWsRun(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, [](const uint32_t* c, size_t p, size_t end) -> size_t {
        if (isWs(c[p]) && p + 1 < end && pred(c[p + 1]))
            return 1 + runLength(c, p + 1, end, pred);
        return runLength(c, p, end, pred);
    });
}
// [0-9][0-9][0-9]
void stageAsciiDigitTriples(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, [](const uint32_t* c, size_t p, size_t end) -> size_t {
        const auto d = [](uint32_t x) { return x >= '0' && x <= '9'; };
        return (p + 2 < end && d(c[p]) && d(c[p + 1]) && d(c[p + 2])) ? 3 : 0;
    });
}
// \s+$ : the whitespace that ends the fragment.
void stageTrailingWs(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    size_t t = e;
    while (t > b && isWs(c[t - 1]))
        --t;
    if (t > b)
        out.push_back(t - b);
    if (e > t)
        out.push_back(e - t);
}

// Classes of the regexes that use explicit character sets. Those sets are matched by llama.cpp
// against text in which every non-ASCII whitespace was replaced by \v, so whitespace never
// belongs to them.
bool isPunctOrAsciiSymbol(uint32_t c) // [\p{P}\$\+<=>\^~\|]
{
    return isP(c) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' ||
           c == '~' || c == '|';
}
bool isPunctOrAsciiSymbolTick(uint32_t c) { return isPunctOrAsciiSymbol(c) || c == '`'; }
bool isCjkRange(uint32_t c) // [一-龥ࠀ-一가-퟿]
{
    return ((c >= 0x0800 && c <= 0x9FA5) || (c >= 0xAC00 && c <= 0xD7FF)) && !isWs(c);
}
bool isDeepseekLetter(uint32_t c) { return unicode::isDeepseekLlmLetter(c); }
bool isDeepseekPunct(uint32_t c) // [!-/:-~！-／：-～‘-‟　-。]
{
    return ((c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
            (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) ||
            (c >= 0x3000 && c <= 0x3002)) &&
           !isWs(c);
}
// [^(\s|.,!?…。，、।۔،)]
bool isBloomWordChar(uint32_t c)
{
    switch (c) {
    case '(': case '|': case '.': case ',': case '!': case '?': case ')':
    case 0x2026: case 0x3002: case 0xFF0C: case 0x3001: case 0x0964: case 0x06D4: case 0x060C:
        return false;
    default:
        return !isWs(c);
    }
}
//  ?[^(\s|.,!?…。，、।۔،)]+
void stageBloom(const uint32_t* c, size_t b, size_t e, std::vector<size_t>& out)
{
    splitWith(c, b, e, out, [](const uint32_t* c, size_t p, size_t end) -> size_t {
        if (c[p] == ' ' && p + 1 < end && isBloomWordChar(c[p + 1]))
            return 1 + runLength(c, p + 1, end, isBloomWordChar);
        return runLength(c, p, end, isBloomWordChar);
    });
}

struct Recipe {
    std::vector<PreTokenizer::Stage> stages;
    bool ignoreMerges = false;
};

const std::map<std::string, Recipe>& recipes()
{
    static const std::map<std::string, Recipe> table = [] {
        const Recipe gpt2{{stageGpt2}};
        const Recipe llama3{{stageLlama3}, true};
        const Recipe llama3Regex{{stageLlama3}};
        const Recipe qwen2{{stageQwen2}};
        const Recipe starcoder{{stageSingle<isN>, stageGpt2}};
        const Recipe falcon{{stageRun<isPunctOrAsciiSymbolTick>, stageGpt2, stageAsciiDigitTriples}};
        const Recipe deflt{
            {stageRun<isPunctOrAsciiSymbol>, stageGpt2, stageRun<isN>, stageAsciiDigitTriples}};
        const Recipe deepseekCoder{{stageSingle<isCrLf>, stageOptWsRun<isL>, stageOptWsRun<isP>,
                                    stageRun<isCjkRange>, stageSingle<isN>}};
        const Recipe deepseekLlm{{stageSingle<isCrLf>, stageOptWsRun<isDeepseekLetter>,
                                  stageOptWsRun<isDeepseekPunct>, stageTrailingWs,
                                  stageRun<isCjkRange>, stageRun<isN>}};
        const Recipe bloom{{stageBloom}};
        const Recipe viking{{stageBloom, stageSingle<isN>}};
        std::map<std::string, Recipe> t;
        t["default"] = deflt;
        for (const char* n : {"gpt-2", "mpt", "olmo", "jais", "phi-2", "roberta-bpe", "trillion"})
            t[n] = gpt2;
        for (const char* n : {"llama3", "llama-v3", "llama-bpe"})
            t[n] = llama3;
        for (const char* n : {"dbrx", "smaug-bpe", "chatglm-bpe"})
            t[n] = llama3Regex;
        for (const char* n : {"qwen2", "stablelm2"})
            t[n] = qwen2;
        for (const char* n : {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone",
                              "minerva-7b"})
            t[n] = starcoder;
        t["falcon"] = falcon;
        t["deepseek-coder"] = deepseekCoder;
        t["deepseek-llm"] = deepseekLlm;
        for (const char* n : {"poro-chat", "bloom", "gpt3-finnish"})
            t[n] = bloom;
        t["viking"] = viking;
        t["gpt-4o"] = Recipe{{stageGpt4o}};
        t["tekken"] = Recipe{{stageTekken}};
        return t;
    }();
    return table;
}

} // namespace

std::unique_ptr<PreTokenizer> PreTokenizer::create(const std::string& name)
{
    const std::string key = name.empty() ? "default" : name;
    const auto it = recipes().find(key);
    if (it == recipes().end()) {
        std::string known;
        for (const auto& n : supportedNames())
            known += (known.empty() ? "" : ", ") + n;
        throw UnsupportedError("unsupported BPE pre-tokenizer '" + name +
                               "' (tokenizer.ggml.pre); supported: " + known);
    }
    auto pre = std::make_unique<PreTokenizer>();
    pre->name_ = key;
    pre->stages_ = it->second.stages;
    pre->ignoreMerges_ = it->second.ignoreMerges;
    return pre;
}

std::vector<std::string> PreTokenizer::supportedNames()
{
    std::vector<std::string> names;
    for (const auto& [n, r] : recipes())
        names.push_back(n);
    return names;
}

std::vector<PreTokenizer::Word> PreTokenizer::split(const std::vector<uint32_t>& cps) const
{
    std::vector<size_t> lengths{cps.size()}, next;
    if (cps.empty())
        return {};
    for (Stage stage : stages_) {
        next.clear();
        size_t start = 0;
        for (size_t len : lengths) {
            stage(cps.data(), start, start + len, next);
            start += len;
        }
        lengths.swap(next);
    }
    std::vector<Word> words;
    words.reserve(lengths.size());
    size_t start = 0;
    for (size_t len : lengths) {
        words.push_back({start, start + len});
        start += len;
    }
    return words;
}

} // namespace tenfold
