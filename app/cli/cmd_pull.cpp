// pull REPO [FILE|--quant Q]: downloads a GGUF model (every part of a split one) from the hub,
// resumable and verified (engine/hub/hub_download.h).
#include "cli_common.h"
#include "commands.h"

#include "hub/gguf_choices.h"
#include "hub/hub_download.h"

#include <chrono>
#include <cstdio>
#include <thread>

namespace tenfold::cli {

CommandSpec pullSpec()
{
    return {"pull", "REPO [FILE] [--quant Q4_K_M] [--revision R] [-o DIR]",
            "Downloads a GGUF model from the Hugging Face Hub into DIR/REPO/FILE. FILE names a file\n"
            "of the repository; --quant picks the file of one quantization; with neither, a\n"
            "repository holding one GGUF model needs no choice and one holding several lists them.\n"
            "A split model (name-00001-of-0000N.gguf) is downloaded as the whole set.\n"
            "Each file goes to FILE.part first and is renamed into place only once its SHA-256\n"
            "matches the hub's; an interrupted pull (Ctrl-C, a lost connection, a full disk)\n"
            "continues where it stopped when run again.\n"
            "HF_ENDPOINT names another hub (a mirror); HF_TOKEN gives an access token for gated or\n"
            "private repositories (or the keyring entry `service huggingface.co`, or the token file\n"
            "of Hugging Face's CLI).",
            {"REPO"},
            {"FILE"},
            {{"--quant", "-q", "TYPE", "the quantization to download, e.g. Q4_K_M"},
             {"--revision", "-r", "R", "branch, tag or commit (default main)"},
             {"--output", "-o", "DIR", "models folder (default: the current folder)"},
             {"--min-free", "", "MB", "refuse to start unless MB megabytes stay free (default 0)"}}};
}

namespace {

std::string duration(double seconds)
{
    if (seconds < 0)
        return "?";
    const long s = long(seconds + 0.5);
    char text[32];
    if (s >= 3600)
        std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else
        std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
    return text;
}

} // namespace

int runPull(const ParsedArgs& args)
{
    const std::string repo = args.positional(0);
    hub::checkRepoId(repo);
    const std::string file = args.positionals().size() > 1 ? args.positional(1) : std::string();
    const std::string quant = args.getString("--quant", "");
    if (!file.empty() && !quant.empty())
        throw UsageError("give FILE or --quant, not both");
    const std::string revision = args.getString("--revision", "main");
    const std::filesystem::path dir = args.getString("--output", ".");
    const uint64_t minFree = uint64_t(args.getInt("--min-free", 0, 0, 1ll << 40)) * 1000000ull;

    const hub::HubClient client(hub::HubConfig::fromEnvironment());
    const auto choices = hub::ggufChoices(client.listFiles(repo, revision));
    if (choices.empty())
        throw Error(repo + " has no GGUF files at revision " + revision);
    std::optional<hub::GgufChoice> choice;
    if (file.empty() && quant.empty() && choices.size() == 1)
        choice = choices[0];
    else
        choice = hub::findChoice(choices, quant, file);
    if (!choice) {
        std::string list;
        for (const hub::GgufChoice& c : choices)
            list += "\n  " + (c.quant.empty() ? std::string("?") : c.quant) + "  " + c.name + "  " +
                    formatBytes(c.totalBytes) + (c.files.size() > 1 ? "  (" + std::to_string(c.files.size()) + " parts)" : "");
        throw UsageError((file.empty() && quant.empty() ? "choose a file or --quant; " + repo + " has:"
                                                        : "no such file or quantization in " + repo + "; it has:") +
                         list);
    }
    if (!choice->complete)
        throw Error(repo + ": the split set " + choice->name + " lacks parts in the repository");

    const std::atomic<bool>* interruptFlag = installInterruptHandler();
    hub::CancelToken cancel;
    std::atomic<bool> finished{false};
    // The signal handler only sets a flag; this thread turns it into a cancel, which also closes
    // the connection (not safe to do inside a signal handler).
    std::thread watcher([&] {
        while (!finished) {
            if (interruptFlag->load()) {
                cancel.cancel();
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    std::filesystem::path first;
    try {
        for (size_t i = 0; i < choice->files.size(); ++i) {
            const hub::RepoFile& f = choice->files[i];
            const auto dest = hub::destinationFor(dir, repo, f.path);
            if (i == 0)
                first = dest;
            std::fprintf(stderr, "pulling %s/%s (%s)%s\n", repo.c_str(), f.path.c_str(), formatBytes(f.size).c_str(),
                         std::filesystem::exists(hub::partPathOf(dest)) ? ", resuming" : "");
            hub::DownloadOptions options;
            options.cancel = &cancel;
            options.minFreeBytes = minFree;
            options.progressIntervalMs = 1000;
            options.progress = [&](const hub::DownloadProgress& p) {
                const double percent = p.bytesTotal ? 100.0 * double(p.bytesDone) / double(p.bytesTotal) : 100.0;
                std::fprintf(stderr, "  %5.1f%%  %s of %s  %.2f MB/s  %s left\n", percent,
                             withThousands(p.bytesDone).c_str(), withThousands(p.bytesTotal).c_str(),
                             p.bytesPerSecond / 1e6, duration(p.secondsLeft).c_str());
            };
            hub::downloadFile(client, repo, revision, f, dest, options);
            std::fprintf(stderr, "  verified%s\n", f.sha256.empty() ? " (size only: not an LFS file)" : " (SHA-256)");
        }
    } catch (const Cancelled&) {
        finished = true;
        watcher.join();
        std::fprintf(stderr, "pull stopped; run the same command to continue from the .part file\n");
        return kInterruptedExitCode;
    } catch (...) {
        finished = true;
        watcher.join();
        throw;
    }
    finished = true;
    watcher.join();
    std::printf("%s\n", first.string().c_str());
    return 0;
}

} // namespace tenfold::cli
