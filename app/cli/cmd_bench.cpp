// bench MODEL: prompt-processing (ppN) and decode (tgN) speed, as mean +- stddev over repetitions.
// Loading the model and creating the context happen before any timing, and one untimed warm-up
// run of each test comes first (page faults on the mapped weights, caches, clock ramp-up).
#include "cli_common.h"
#include "cli_ledger.h"
#include "commands.h"

#include "model/model.h"
#include "runtime/cpu_context.h"
#include "profile/op_profile.h"
#include "runtime/memory_bandwidth.h"
#include "runtime/sampling.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

namespace tenfold::cli {

CommandSpec benchSpec()
{
    CommandSpec spec{"bench", "MODEL [-p N] [-n N] [-r R] [--json] [options]",
                     "ppN: one batch of N prompt tokens from an empty cache. tgN: N tokens decoded\n"
                     "one at a time from an empty cache (each the argmax of the previous logits).\n"
                     "Reports tokens/s as mean +- sample stddev over R repetitions after one\n"
                     "untimed warm-up, the decode memory bandwidth (weight bytes x tg tokens/s),\n"
                     "and the peak resident memory (VmHWM). Model loading is never timed. With\n"
                     "--memory, it also measures the machine's read bandwidth with the same threads\n"
                     "(1 GiB read 5 times) and prints decode GB/s as a share of it. The CPU kernel\n"
                     "level in use is in the backend line (TENFOLD_CPU_KERNELS=scalar|avx2|avx512\n"
                     "pins one); ppN also shows GFLOP/s (2 flops per matmul weight per token).\n"
                     "--parallel P adds tgNxP: P sequences (16-token prompts) decoded together\n"
                     "through the batched context the server uses, one row per sequence per step;\n"
                     "tokens/s counts all P streams. --profile times every op as the Profiler does\n"
                     "(CPU timers, Vulkan timestamps) and prints the ops of the last decoded\n"
                     "token (with --parallel, tgNxP is timed as tenfold-server --profile times\n"
                     "its batched passes); compare with a run without it for what profiling costs.\n"
                     "Each test adds a row to the usage ledger (source \"benchmark\", the test's\n"
                     "name as the client) with the tokens, time and energy of its timed\n"
                     "repetitions (the warm-up is not counted), for the Cost history page.",
                     {"MODEL"},
                     {},
                     {{"--prompt-tokens", "-p", "N", "prompt length for ppN; 0 skips it (default 512)"},
                      {"--gen-tokens", "-n", "N", "tokens for tgN; 0 skips it (default 128)"},
                      {"--repetitions", "-r", "R", "timed repetitions (default 3)"},
                      {"--memory", "", "", "also measure memory read bandwidth (CPU)"},
                      {"--parallel", "", "P", "also decode P sequences at once (batched, as the server)"},
                      {"--profile", "", "", "time every op (the Profiler's per-op timings)"},
                      {"--json", "", "", "print one JSON object instead of a table"}}};
    for (auto& o : backendOptions())
        spec.options.push_back(o);
    for (auto& o : ledgerOptions())
        spec.options.push_back(o);
    return spec;
}

namespace {

struct Result {
    std::string test;
    int tokens = 0;
    std::vector<double> tokensPerSecond;
    cost::EnergyReading energy; // of the timed repetitions, when the ledger records them
    double seconds() const
    {
        double s = 0;
        for (double v : tokensPerSecond)
            s += v > 0 ? double(tokens) / v : 0.0;
        return s;
    }
    double mean() const
    {
        double s = 0;
        for (double v : tokensPerSecond)
            s += v;
        return tokensPerSecond.empty() ? 0.0 : s / double(tokensPerSecond.size());
    }
    double stddev() const
    {
        if (tokensPerSecond.size() < 2)
            return 0.0;
        const double m = mean();
        double s = 0;
        for (double v : tokensPerSecond)
            s += (v - m) * (v - m);
        return std::sqrt(s / double(tokensPerSecond.size() - 1));
    }
};

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double runPrompt(InferenceContext& ctx, const std::vector<int32_t>& prompt, std::vector<float>& logits)
{
    ctx.truncate(0);
    const auto t0 = Clock::now();
    ctx.decode(prompt, false, logits);
    return double(prompt.size()) / secondsSince(t0);
}

double runDecode(InferenceContext& ctx, int n, int32_t first, std::vector<float>& logits)
{
    ctx.truncate(0);
    int32_t token = first;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        ctx.decode(std::span<const int32_t>(&token, 1), false, logits);
        token = argmax(logits);
    }
    return double(n) / secondsSince(t0);
}

// P sequences, each with its own 16-token prompt, then n steps of one row per sequence.
double runBatchedDecode(BatchedContext& ctx, int P, int n, std::mt19937& rng, int vocab)
{
    std::uniform_int_distribution<int32_t> pick(std::min(3, vocab - 1), vocab - 1);
    std::vector<SeqId> seqs;
    std::vector<BatchRow> rows;
    for (int p = 0; p < P; ++p) {
        seqs.push_back(ctx.openSequence());
        for (int i = 0; i < 16; ++i)
            rows.push_back({pick(rng), seqs.back(), i == 15, false});
    }
    std::vector<float> logits;
    ctx.decode(rows, logits);
    const size_t V = size_t(vocab);
    const auto t0 = Clock::now();
    for (int step = 0; step < n; ++step) {
        rows.clear();
        for (int p = 0; p < P; ++p)
            rows.push_back({argmax(std::span<const float>(logits.data() + size_t(p) * V, V)),
                            seqs[size_t(p)], true, false});
        ctx.decode(rows, logits);
    }
    const double seconds = secondsSince(t0);
    for (SeqId s : seqs)
        ctx.closeSequence(s);
    return double(P) * double(n) / seconds;
}

std::string jsonEscape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
            continue;
        }
        out += c;
    }
    return out;
}

} // namespace

int runBench(const ParsedArgs& args)
{
    const int nPrompt = int(args.getInt("--prompt-tokens", 512, 0, 1 << 20));
    const int nGen = int(args.getInt("--gen-tokens", 128, 0, 1 << 20));
    const int reps = int(args.getInt("--repetitions", 3, 1, 1000));
    if (nPrompt == 0 && nGen == 0)
        throw UsageError("nothing to measure: -p and -n are both 0");
    const std::string path = args.positional(0);

    // Opened first: a ledger that cannot be written fails before the model is loaded.
    std::unique_ptr<CliLedger> ledger = CliLedger::open(args, "benchmark");
    const std::shared_ptr<Model> model = loadModel(path);
    std::unique_ptr<Backend> backend = createBackend(args);
    ContextParams cp;
    cp.nCtx = std::max({nPrompt, nGen, 1});
    cp.nThreads = threadCount(args);
    cp.profile = args.has("--profile");
    std::unique_ptr<InferenceContext> ctx = backend->createContext(model, cp);

    // Fixed pseudo-random tokens (skipping the specials at the start of SentencePiece vocabs).
    const int vocab = model->hparams().nVocab;
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(std::min(3, vocab - 1), vocab - 1);
    std::vector<int32_t> prompt(static_cast<size_t>(nPrompt));
    for (int32_t& t : prompt)
        t = pick(rng);
    const int32_t first = pick(rng);

    if (ledger)
        ledger->describe(*model, path, args, backend->name(), *ctx);
    // The energy of a test's timed repetitions (reading the counters is outside the timings).
    cost::EnergyMeter::Mark mark;
    auto startEnergy = [&] {
        if (ledger)
            mark = ledger->meter().start();
    };
    auto takeEnergy = [&](Result& r) {
        if (ledger)
            r.energy = ledger->meter().since(mark, ledger->onGpu());
    };

    std::vector<float> logits;
    std::vector<Result> results;
    if (nPrompt > 0) {
        Result r{"pp" + std::to_string(nPrompt), nPrompt, {}, {}};
        runPrompt(*ctx, prompt, logits); // warm-up
        startEnergy();
        for (int i = 0; i < reps; ++i)
            r.tokensPerSecond.push_back(runPrompt(*ctx, prompt, logits));
        takeEnergy(r);
        results.push_back(r);
    }
    if (nGen > 0) {
        Result r{"tg" + std::to_string(nGen), nGen, {}, {}};
        runDecode(*ctx, nGen, first, logits); // warm-up
        startEnergy();
        for (int i = 0; i < reps; ++i)
            r.tokensPerSecond.push_back(runDecode(*ctx, nGen, first, logits));
        takeEnergy(r);
        results.push_back(r);
    }

    const int parallel = int(args.getInt("--parallel", 0, 0, 256));
    if (parallel > 0 && nGen > 0) {
        BatchedParams bp;
        bp.maxSequences = parallel;
        bp.maxSequenceLength = nGen + 16;
        bp.nThreads = cp.nThreads;
        bp.profile = cp.profile; // the server's --profile timing, measured here
        std::unique_ptr<BatchedContext> batched = backend->createBatchedContext(model, bp);
        Result r{"tg" + std::to_string(nGen) + "x" + std::to_string(parallel), nGen * parallel, {}, {}};
        runBatchedDecode(*batched, parallel, nGen, rng, vocab); // warm-up
        startEnergy();
        for (int i = 0; i < reps; ++i)
            r.tokensPerSecond.push_back(runBatchedDecode(*batched, parallel, nGen, rng, vocab));
        takeEnergy(r);
        results.push_back(r);
    }
    if (ledger)
        for (const Result& r : results) {
            // One row per test, its timed repetitions together: ppN is prefill only, tgN decode
            // only (each step feeds back the previous argmax, so tokens in = tokens out = 0 and N).
            LedgerEntry e = ledger->entry();
            e.client = r.test;
            const double ms = 1000.0 * r.seconds();
            const int tokens = r.tokens * reps;
            e.totalMs = ms;
            if (r.test.rfind("pp", 0) == 0) {
                e.tokensIn = e.prefillTokens = tokens;
                e.prefillMs = ms;
                e.timeToFirstTokenMs = ms / reps;
            } else {
                e.tokensOut = e.decodeTokens = tokens;
                e.decodeMs = ms;
            }
            e.energyJoules = r.energy.joules;
            e.energySource = r.energy.source;
            ledger->record(e);
        }

    const uint64_t weightBytes = model->weightBytes();
    const uint64_t fileBytes = std::filesystem::file_size(path);
    const uint64_t rss = peakRssBytes();
    // The yardstick for decode: the same threads reading a buffer far larger than the caches
    // (after the peak RSS is taken, which must not count the buffer).
    BandwidthResult memory;
    if (args.has("--memory"))
        memory = measureReadBandwidth(cp.nThreads);
    const std::string backendName = backend->name();
    auto gbPerSecond = [&](const Result& r) {
        // Only single-stream decode reads the weights once per token.
        return r.test.rfind("tg", 0) == 0 && r.test.find('x') == std::string::npos
                   ? double(weightBytes) * r.mean() / 1e9
                   : 0.0;
    };
    // Prompt processing as arithmetic: 2 flops per matmul weight per token (the projections,
    // the feed-forward and the output head; attention's own products are left out).
    const double matmulWeights = profile::matmulWeights(*model);
    auto gflopPerSecond = [&](const Result& r) {
        return r.test.rfind("pp", 0) == 0 ? 2.0 * matmulWeights * r.mean() / 1e9 : 0.0;
    };

    // The CPU context's pool is what really ran (the backend may pick its own default count).
    int reportedThreads = cp.nThreads > 0 ? cp.nThreads : int(std::thread::hardware_concurrency());
    if (const auto* cpu = dynamic_cast<const CpuContext*>(ctx.get()))
        reportedThreads = cpu->threads();
    if (args.has("--json")) {
        std::printf("{\n  \"model\": \"%s\",\n  \"model_name\": \"%s\",\n  \"backend\": \"%s\",\n"
                    "  \"threads\": %d,\n  \"parameters\": %llu,\n  \"weight_bytes\": %llu,\n"
                    "  \"file_bytes\": %llu,\n  \"repetitions\": %d,\n  \"peak_rss_bytes\": %llu,\n"
                    "  \"memory_read_gb_per_s\": %.3f,\n  \"results\": [",
                    jsonEscape(path).c_str(), jsonEscape(model->displayName()).c_str(),
                    jsonEscape(backendName).c_str(),
                    reportedThreads,
                    static_cast<unsigned long long>(model->parameterCount()),
                    static_cast<unsigned long long>(weightBytes),
                    static_cast<unsigned long long>(fileBytes), reps,
                    static_cast<unsigned long long>(rss), memory.gbPerSecond);
        for (size_t i = 0; i < results.size(); ++i) {
            const Result& r = results[i];
            std::printf("%s\n    {\"test\": \"%s\", \"n_tokens\": %d, \"tokens_per_s\": %.3f, "
                        "\"stddev\": %.3f, \"gb_per_s\": %.3f, \"gflop_per_s\": %.3f, \"samples\": [",
                        i ? "," : "", r.test.c_str(), r.tokens, r.mean(), r.stddev(), gbPerSecond(r),
                        gflopPerSecond(r));
            for (size_t j = 0; j < r.tokensPerSecond.size(); ++j)
                std::printf("%s%.3f", j ? ", " : "", r.tokensPerSecond[j]);
            std::printf("]}");
        }
        std::printf("\n  ]\n}\n");
        return 0;
    }

    std::printf("model: %s (%s parameters, weights %s, file %s)\n", path.c_str(),
                withThousands(model->parameterCount()).c_str(), formatBytes(weightBytes).c_str(),
                formatBytes(fileBytes).c_str());
    std::printf("backend: %s, %d repetitions after a warm-up\n\n", backendName.c_str(), reps);
    if (memory.gbPerSecond > 0)
        std::printf("memory read bandwidth: %.2f GB/s (%d threads, best of %d passes over %s)\n\n",
                    memory.gbPerSecond, memory.threads, memory.passes, formatBytes(memory.bytes).c_str());
    std::printf("%-8s %22s %14s%s\n", "test", "tokens/s", "decode GB/s", memory.gbPerSecond > 0 ? "  of memory" : "");
    for (const Result& r : results) {
        char speed[64];
        std::snprintf(speed, sizeof speed, "%.2f +- %.2f", r.mean(), r.stddev());
        if (gbPerSecond(r) > 0 && memory.gbPerSecond > 0)
            std::printf("%-8s %22s %14.2f %10.0f%%\n", r.test.c_str(), speed, gbPerSecond(r),
                        100.0 * gbPerSecond(r) / memory.gbPerSecond);
        else if (gbPerSecond(r) > 0)
            std::printf("%-8s %22s %14.2f\n", r.test.c_str(), speed, gbPerSecond(r));
        else
            std::printf("%-8s %22s %14s\n", r.test.c_str(), speed, "-");
    }
    for (const Result& r : results)
        if (gflopPerSecond(r) > 0)
            std::printf("%s: %.1f GFLOP/s (2 x %s matmul weights per token)\n", r.test.c_str(),
                        gflopPerSecond(r), withThousands(uint64_t(matmulWeights)).c_str());
    if (cp.profile && nGen > 0) {
        profile::OpProfile ops;
        ops.add(ctx->lastTimings());
        std::printf("\nops of the last decoded token (%.1f us in all):\n", ops.totalMicroseconds());
        for (const profile::OpCell& c : ops.perOp())
            std::printf("  %-24s %10.1f us %5.1f%%\n", c.op.c_str(), c.microseconds,
                        ops.totalMicroseconds() > 0 ? 100.0 * c.microseconds / ops.totalMicroseconds() : 0.0);
    }
    std::printf("\npeak RSS: %s (file %s)\n", formatBytes(rss).c_str(), formatBytes(fileBytes).c_str());
    return 0;
}

} // namespace tenfold::cli
