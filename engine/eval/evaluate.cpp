#include "eval/evaluate.h"

#include "core/error.h"
#include "core/fnv.h"
#include "core/json_writer.h"
#include "eval/base_logits.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

namespace tenfold {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

int32_t argmaxOf(const std::vector<float>& logits)
{
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::string fileLabel(const Model& m)
{
    return m.gguf() ? m.gguf()->label() : m.displayName();
}

// Size and bits per weight over every tensor in the file, as `inspect` and the reference engine
// count them (a llama2.c import has no file of its own: its weights alone).
void measureSize(const Model& m, EvalReport& r)
{
    if (const GGUFFile* f = m.gguf()) {
        r.fileBytes = f->fileSize();
        for (const GGUFTensorInfo& t : f->tensors()) {
            r.parameters += uint64_t(t.elementCount());
            r.tensorBytes += t.nbytes;
        }
    } else {
        r.parameters = m.parameterCount();
        r.tensorBytes = m.weightBytes();
    }
    r.bitsPerWeight = r.parameters ? double(r.tensorBytes) * 8.0 / double(r.parameters) : 0.0;
}

// Greedy decoding from the first tokens of the text: tokens per second of single-token passes
// (the prompt itself is not timed).
void measureDecode(InferenceContext& ctx, std::span<const int32_t> tokens, int32_t bos,
                   const EvalOptions& o, EvalReport& r)
{
    const int prompt = std::min<int>(8, int(tokens.size()));
    const int steps = std::min(o.decodeTokens, ctx.contextSize() - prompt);
    if (steps <= 0)
        return;
    std::vector<int32_t> first(tokens.begin(), tokens.begin() + prompt);
    if (bos >= 0)
        first[0] = bos;
    std::vector<float> logits;
    ctx.truncate(0);
    ctx.decode(first, false, logits, o.cancel);
    int32_t token = argmaxOf(logits);
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) {
        ctx.decode(std::span<const int32_t>(&token, 1), false, logits, o.cancel);
        token = argmaxOf(logits);
    }
    r.decodeTokens = steps;
    r.decodeTokensPerSecond = double(steps) / secondsSince(t0);
}

JsonObject perplexityJson(const PerplexityResult& p)
{
    JsonObject j;
    j.number("ppl", p.ppl).number("ppl_stderr", p.pplStderr);
    j.number("mean_nll", p.meanNll).number("nll_stderr", p.nllStderr);
    return j;
}

} // namespace

std::vector<int32_t> evaluationTokens(const Model& base, std::string_view text)
{
    return base.tokenizer().encode(text, true);
}

int32_t evaluationBos(const Model& base)
{
    const Tokenizer& t = base.tokenizer();
    return t.addBos() && t.bos() >= 0 ? t.bos() : -1;
}

EvalReport evaluateModel(const std::filesystem::path& model, const std::filesystem::path& base,
                         std::span<const int32_t> tokens, const EvalOptions& options)
{
    std::shared_ptr<const Model> m = Model::loadGGUF(model);
    std::shared_ptr<const Model> b = Model::loadGGUF(base);
    EvalReport r = evaluateModel(m, b, tokens, options);
    r.modelPath = model.string();
    r.basePath = base.string();
    return r;
}

EvalReport evaluateModel(std::shared_ptr<const Model> model, std::shared_ptr<const Model> base,
                         std::span<const int32_t> tokens, const EvalOptions& o)
{
    const auto start = Clock::now();
    EvalReport r;
    r.modelPath = fileLabel(*model);
    r.basePath = fileLabel(*base);
    const int32_t nVocab = base->hparams().nVocab;
    if (model->hparams().nVocab != nVocab)
        throw InvalidArgument("the model has a vocabulary of " + std::to_string(model->hparams().nVocab) +
                              " tokens and the base " + std::to_string(nVocab) +
                              ": KL divergence needs the same vocabulary");
    if (o.nCtx < 4)
        throw InvalidArgument("the evaluation window must be at least 4 tokens, got " + std::to_string(o.nCtx));
    PerplexityOptions po;
    po.nCtx = o.nCtx;
    po.maxChunks = o.maxChunks;
    po.bos = evaluationBos(*base);
    po.cancel = o.cancel;
    r.nCtx = o.nCtx;
    r.chunks = perplexityChunks(int64_t(tokens.size()), po);
    if (r.chunks < 1)
        throw InvalidArgument("the text has " + std::to_string(tokens.size()) +
                              " tokens; evaluation needs at least " + std::to_string(o.nCtx) +
                              " (one window of " + std::to_string(o.nCtx) + ")");
    measureSize(*model, r);
    r.modelFingerprint = model->fingerprint();
    r.baseFingerprint = base->fingerprint();

    std::unique_ptr<Backend> ownBackend;
    Backend* backend = o.backend;
    if (!backend) {
        ownBackend = createCpuBackend(o.nThreads);
        backend = ownBackend.get();
    }
    r.backend = backend->name();
    ContextParams cp;
    cp.nCtx = o.nCtx;
    cp.nThreads = o.nThreads;

    // The base's distributions: from the cache when it holds them, else one pass over the windows.
    const BaseLogitsKey key = makeBaseLogitsKey(r.baseFingerprint, nVocab, tokens, po, o.topK);
    std::optional<BaseLogits> stored;
    std::filesystem::path cacheFile;
    bool replacing = false; // a file was there but unusable: its reason stays in the report
    if (!o.cacheDir.empty()) {
        cacheFile = baseLogitsCacheFile(o.cacheDir, key);
        r.cacheFile = cacheFile.string();
        std::error_code ec;
        replacing = std::filesystem::exists(cacheFile, ec);
        stored = loadBaseLogits(cacheFile, key, &r.cacheNote);
    }
    r.baseFromCache = stored.has_value();
    const int total = r.chunks * (stored ? 1 : 2);
    if (!stored) {
        const auto t0 = Clock::now();
        {
            std::unique_ptr<InferenceContext> baseCtx = backend->createContext(base, cp);
            PerplexityOptions bo = po;
            bo.progress = [&](int done, int) {
                r.baseWindowsRun = done;
                if (o.progress)
                    o.progress(done, total);
            };
            stored = computeBaseLogits(*baseCtx, tokens, bo, key);
        }
        r.baseSeconds = secondsSince(t0);
        if (!cacheFile.empty()) {
            // A cache that cannot be written costs the next run time, not this one its result.
            try {
                saveBaseLogits(cacheFile, *stored);
                r.cacheNote = replacing ? "replaced: " + r.cacheNote : std::string();
            } catch (const IoError& e) {
                r.cacheNote = e.what();
            }
        }
    } else {
        r.cacheNote.clear();
    }
    const BaseLogits& b = *stored;
    r.kldExact = b.exact();
    r.baseFormat = baseLogitsFormatName(b.key.format);
    r.topK = b.key.topK;
    r.cacheBytes = b.bytes();

    // The model over the same windows, each scored position compared with the base's.
    std::unique_ptr<InferenceContext> ctx = backend->createContext(model, cp);
    validatePerplexityInput(*ctx, tokens, po);
    const int first = key.firstScored;
    MeanAccumulator nllTest, nllBase, kld;
    std::vector<double> klds;
    klds.reserve(size_t(b.positions));
    int64_t sameTop = 0, position = 0;
    std::vector<int32_t> window;
    std::vector<float> logits;
    std::vector<double> scratch;
    double prefillSeconds = 0;
    const int done0 = total - r.chunks;
    for (int c = 0; c < r.chunks; ++c) {
        if (o.cancel && o.cancel->load())
            throw Cancelled();
        const auto t0 = Clock::now();
        runPerplexityWindow(*ctx, tokens, c, po, window, logits);
        prefillSeconds += secondsSince(t0);
        const size_t vocab = size_t(nVocab);
        if (logits.size() != size_t(o.nCtx - first) * vocab)
            throw InvalidArgument("the model's logits do not match its vocabulary of " + std::to_string(vocab));
        for (int j = first; j < o.nCtx - 1; ++j, ++position) {
            const std::span<const float> row(logits.data() + size_t(j - first) * vocab, vocab);
            const double lse = logSumExp(row);
            nllTest.add(lse - double(row[size_t(window[size_t(j + 1)])]));
            nllBase.add(b.nll[size_t(position)]);
            const PositionComparison pc = compareToBase(b, position, row, lse, scratch);
            kld.add(pc.kld);
            klds.push_back(pc.kld);
            sameTop += pc.testArgmax == b.argmax[size_t(position)];
        }
        if (o.progress)
            o.progress(done0 + c + 1, total);
    }
    r.modelSeconds = prefillSeconds;
    r.prefillTokensPerSecond = prefillSeconds > 0 ? double(r.chunks) * o.nCtx / prefillSeconds : 0.0;
    r.predictions = kld.n;
    r.test = perplexityFromNll(nllTest, r.chunks);
    r.base = perplexityFromNll(nllBase, r.chunks);
    r.meanKld = kld.mean();
    r.kldStderr = kld.stderrOfMean();
    r.kld99 = quantileInPlace(klds, 0.99);
    r.kldMedian = quantileInPlace(klds, 0.5);
    r.sameTopPct = kld.n ? 100.0 * double(sameTop) / double(kld.n) : 0.0;

    if (o.decodeTokens > 0)
        measureDecode(*ctx, tokens, po.bos, o, r);
    r.seconds = secondsSince(start);
    return r;
}

std::string evalReportJson(const EvalReport& r)
{
    JsonObject j;
    j.text("model", r.modelPath).text("base", r.basePath);
    j.text("model_hash", hex64(r.modelFingerprint)).text("base_hash", hex64(r.baseFingerprint));
    j.text("backend", r.backend);
    j.integer("ctx", r.nCtx).integer("chunks", r.chunks).integer("predictions", r.predictions);
    j.object("perplexity", perplexityJson(r.test));
    j.object("base_perplexity", perplexityJson(r.base));
    JsonObject k;
    k.number("mean", r.meanKld).number("stderr", r.kldStderr).number("median", r.kldMedian);
    k.number("p99", r.kld99).boolean("exact", r.kldExact).text("base_form", r.baseFormat);
    k.integer("top_k", r.topK);
    j.object("kld", k);
    j.number("same_top_pct", r.sameTopPct);
    j.integer("file_bytes", int64_t(r.fileBytes)).integer("parameters", int64_t(r.parameters));
    j.integer("tensor_bytes", int64_t(r.tensorBytes)).number("bits_per_weight", r.bitsPerWeight);
    JsonObject s;
    s.number("prefill_tokens_per_second", r.prefillTokensPerSecond);
    s.integer("decode_tokens", r.decodeTokens).number("decode_tokens_per_second", r.decodeTokensPerSecond);
    j.object("speed", s);
    JsonObject c;
    c.boolean("base_from_cache", r.baseFromCache).integer("base_windows_run", r.baseWindowsRun);
    c.text("file", r.cacheFile).integer("bytes", int64_t(r.cacheBytes)).text("note", r.cacheNote);
    j.object("cache", c);
    JsonObject t;
    t.number("base", r.baseSeconds).number("model", r.modelSeconds).number("total", r.seconds);
    j.object("seconds", t);
    return j.str();
}

} // namespace tenfold
