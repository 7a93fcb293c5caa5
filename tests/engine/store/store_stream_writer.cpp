// Child process for tst_store_kill: opens the store in argv[1], starts a streaming assistant
// message and appends one token every argv[2] milliseconds forever, printing after each append
// "token <i> <ms since start>" so the parent knows how much text was handed to the store and when.
// The parent kills it with SIGKILL; nothing here gets a chance to flush.
#include "store/store.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <data-dir> <token-interval-ms>\n", argv[0]);
        return 2;
    }
    try {
        tenfold::Store store{std::filesystem::path(argv[1])};
        int64_t conversation = store.createConversation({0, "kill test", 0, 0, "model.gguf", "", "{}", false});
        store.appendMessage(conversation, {"user", "Count for me.", "", "{}", {}, tenfold::MessageState::Complete});
        int64_t message = store.beginStreamingMessage(conversation, "assistant", "model.gguf");
        std::printf("message %lld\n", static_cast<long long>(message));
        std::fflush(stdout);
        const auto interval = std::chrono::milliseconds(std::atoi(argv[2]));
        const auto start = std::chrono::steady_clock::now();
        for (long long i = 0;; ++i) {
            store.appendStreamingText(message, "tok" + std::to_string(i) + " ");
            long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
            std::printf("token %lld %lld\n", i, ms);
            std::fflush(stdout);
            std::this_thread::sleep_for(interval);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
