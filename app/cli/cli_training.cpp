#include "cli_training.h"

#include "cli_common.h"
#include "core/error.h"
#include "model/model.h"
#include "tensor/ggml_type.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace tenfold::cli {

std::vector<OptionSpec> trainingOptions()
{
    return {{"--file", "-f", "TEXT", "training text (required); its last --valid-fraction is held out"},
            {"--steps", "", "N", "optimizer steps (default 200)"},
            {"--batch", "", "B", "windows per step (default 4)"},
            {"--ctx", "-c", "N", "window length in tokens (default 128)"},
            {"--lr", "", "LR", "peak learning rate (default 5e-4)"},
            {"--min-lr", "", "LR", "floor of the cosine schedule (default lr/10)"},
            {"--warmup", "", "N", "linear warm-up steps (default steps/20)"},
            {"--weight-decay", "", "WD", "AdamW decoupled weight decay (default 0)"},
            {"--clip", "", "NORM", "global gradient-norm clipping, 0 = off (default 1)"},
            {"--seed", "", "S", "data order seed (default 1)"},
            {"--threads", "-t", "N", "threads (default: all cores); the result does not depend on it"},
            {"--valid-fraction", "", "F", "share of the text held out for validation (default 0.05)"},
            {"--eval-every", "", "N", "validation loss every N steps (default 50)"},
            {"--eval-windows", "", "N", "validation windows to score (default: all)"},
            {"--checkpoint-dir", "", "DIR", "write a checkpoint there every --checkpoint-every steps"},
            {"--checkpoint-every", "", "N", "default 50"},
            {"--resume", "", "", "continue from the checkpoint in --checkpoint-dir"},
            {"--out-type", "", "f32|f16", "type of OUT's weight matrices (default f32)"}};
}

namespace {

std::string formatEta(double s)
{
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), int(std::fmod(s, 3600) / 60));
    else
        std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(std::fmod(s, 60)));
    return buf;
}

} // namespace

int runTrainingCommand(const ParsedArgs& args, train::TrainableModel student,
                       const train::TrainableModel* teacher, std::vector<uint8_t> mask,
                       const std::string& outPath)
{
    const auto textPath = args.get("--file");
    if (!textPath)
        throw UsageError("needs -f TEXT (the training text)");
    train::TrainOptions o;
    o.steps = args.getInt("--steps", 200, 1, 100000000);
    o.batch = int(args.getInt("--batch", 4, 1, 4096));
    const int ctx = int(args.getInt("--ctx", 128, 2, 1 << 16));
    o.lr = args.getDouble("--lr", 5e-4, 1e-12, 10);
    o.minLr = args.getDouble("--min-lr", o.lr / 10, 0, o.lr);
    o.warmup = args.getInt("--warmup", o.steps / 20, 0, o.steps);
    o.weightDecay = args.getDouble("--weight-decay", 0, 0, 10);
    o.clip = args.getDouble("--clip", 1.0, 0, 1e12);
    o.seed = uint64_t(args.getInt("--seed", 1, 0, (1ll << 62)));
    o.threads = threadCount(args);
    o.evalEvery = args.getInt("--eval-every", 50, 0, 100000000);
    o.evalWindows = int(args.getInt("--eval-windows", 0, 0, 1 << 30));
    o.alpha = args.getDouble("--alpha", 0.5, 0, 1);
    o.temperature = args.getDouble("--temperature", 2.0, 1e-3, 1e3);
    o.mask = std::move(mask);
    const double validFraction = args.getDouble("--valid-fraction", 0.05, 0, 0.5);
    if (const auto dir = args.get("--checkpoint-dir")) {
        o.checkpointDir = *dir;
        o.checkpointEvery = args.getInt("--checkpoint-every", 50, 1, 100000000);
    } else if (args.has("--resume")) {
        throw UsageError("--resume needs --checkpoint-dir");
    }
    const std::string outType = args.getString("--out-type", "f32");
    if (outType != "f32" && outType != "f16" && outType != "F32" && outType != "F16")
        throw UsageError("--out-type is f32 or f16, not '" + outType + "'");
    const GGMLType weightType = (outType == "f16" || outType == "F16") ? GGMLType::F16 : GGMLType::F32;

    const std::string text = readTextFile(*textPath);
    const train::TokenDataset data = train::TokenDataset::fromText(
        student.source->tokenizer(), text, ctx, validFraction, *textPath);

    o.cancel = installInterruptHandler();
    train::Trainer trainer(student.config, std::move(student.params), data, o);
    if (teacher)
        trainer.setTeacher(teacher->config, teacher->params);
    if (!o.checkpointDir.empty()) {
        const auto ck = train::Trainer::checkpointPath(o.checkpointDir);
        if (args.has("--resume")) {
            if (trainer.resume())
                std::fprintf(stderr, "resumed from %s at step %lld\n", ck.string().c_str(),
                             static_cast<long long>(trainer.stepsDone()));
            else
                std::fprintf(stderr, "no checkpoint in %s: starting from step 0\n",
                             o.checkpointDir.string().c_str());
        } else if (std::filesystem::exists(ck)) {
            throw InvalidArgument(ck.string() + " exists: pass --resume to continue that run, or "
                                  "remove it to start again");
        }
    }
    std::string teacherNote = ", cross-entropy only";
    if (teacher) {
        char buf[160];
        std::snprintf(buf, sizeof buf, ", distilling from a teacher of %d layers (alpha %g, T %g)",
                      teacher->config.nLayers, o.alpha, o.temperature);
        teacherNote = buf;
    }
    std::fprintf(stderr,
                 "%s: %lld tokens (%lld for training, %d validation windows of %d); student: %d "
                 "layers, %s parameters%s\n",
                 textPath->c_str(), static_cast<long long>(data.tokenCount()),
                 static_cast<long long>(data.trainTokens()), data.validWindows(), ctx,
                 student.config.nLayers,
                 withThousands(train::ParamLayout(student.config).count()).c_str(),
                 teacherNote.c_str());
    const int64_t every = std::max<int64_t>(1, o.steps / 40);
    train::TrainResult r;
    try {
        r = trainer.run([&](const train::StepReport& s) {
            if (s.step % every != 0 && s.step != s.totalSteps && std::isnan(s.valLoss))
                return;
            std::printf("step %lld/%lld  loss %.4f", static_cast<long long>(s.step),
                        static_cast<long long>(s.totalSteps), s.loss);
            if (teacher)
                std::printf(" (ce %.4f, kl %.4f)", s.ce, s.kl);
            std::printf("  lr %.2e  |g| %.3f", s.lr, s.gradNorm);
            if (!std::isnan(s.valLoss))
                std::printf("  val %.4f (ppl %.2f)", s.valLoss, std::exp(s.valLoss));
            std::printf("  %.0f tok/s  eta %s%s\n", s.tokensPerSecond, formatEta(s.etaSeconds).c_str(),
                        s.checkpointed ? "  [checkpoint]" : "");
            std::fflush(stdout);
        });
    } catch (const train::TrainingDiverged&) {
        if (!o.checkpointDir.empty())
            std::fprintf(stderr, "the last good checkpoint: %s (OUT was not written)\n",
                         train::Trainer::checkpointPath(o.checkpointDir).string().c_str());
        throw;
    }
    train::saveTrainableGGUF(outPath, *student.source, trainer.config(), trainer.params(), weightType);
    std::printf("trained %lld steps in %.1f s; validation loss %.4f, perplexity %.3f (%d windows of "
                "%d tokens, every position scored)\nwrote %s\n",
                static_cast<long long>(r.steps), r.seconds, r.valLoss, r.valPerplexity,
                o.evalWindows > 0 ? std::min(o.evalWindows, data.validWindows()) : data.validWindows(),
                ctx, outPath.c_str());
    return 0;
}

} // namespace tenfold::cli
