// Chat time-to-first-token by turn, through the desktop's EngineSession (the same code the chat
// page drives), with the conversation cache on and off (TENFOLD_NO_CONVERSATION_CACHE=1). Prints
// a table for docs/BENCHMARKS.md; not a test.
//   bench_chat_turns MODEL [TURNS] [THREADS]
#include "session/engine_session.h"

#include <QCoreApplication>

#include <cstdio>

using namespace tenfold::ui;

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_chat_turns MODEL [TURNS] [THREADS]\n");
        return 2;
    }
    const int turns = argc > 2 ? std::atoi(argv[2]) : 20;
    const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
    auto loadCancel = std::make_shared<std::atomic<bool>>(false);
    auto genCancel = std::make_shared<std::atomic<bool>>(false);
    EngineSession session(loadCancel, genCancel);
    bool ok = false;
    QObject::connect(&session, &EngineSession::loaded, [&](quint64, const LoadedModel& m) {
        ok = true;
        std::printf("model: %s, %s, context %d, template %s\n", qPrintable(m.name), qPrintable(m.backendName),
                    m.contextSize, qPrintable(m.templateName));
    });
    QObject::connect(&session, &EngineSession::loadFailed, [](quint64, const QString&, const QString& why) {
        std::fprintf(stderr, "load failed: %s\n", qPrintable(why));
    });
    LoadRequest load;
    load.path = QString::fromLocal8Bit(argv[1]);
    load.backend = ComputeBackend::Cpu;
    load.threads = threads;
    session.load(load);
    if (!ok)
        return 1;

    GenerationResult last;
    QString failure;
    QObject::connect(&session, &EngineSession::generationFinished, [&](const GenerationResult& r) { last = r; });
    QObject::connect(&session, &EngineSession::generationFailed,
                     [&](quint64, const QString& why) { failure = why; });
    ChatRequest req;
    req.systemPrompt = QStringLiteral("You are a helpful assistant who tells short stories about a town.");
    req.sampling.temperature = 0;
    req.sampling.maxTokens = 8;
    std::printf("cache %s\n%5s %14s %14s %10s %10s\n",
                qEnvironmentVariableIsSet("TENFOLD_NO_CONVERSATION_CACHE") ? "off" : "on", "turn",
                "prompt tokens", "reused tokens", "TTFT ms", "dropped");
    for (int t = 1; t <= turns; ++t) {
        req.turns.push_back({QStringLiteral("user"), QStringLiteral("Tell me about house %1.").arg(t)});
        req.id = quint64(t);
        failure.clear();
        session.generate(req);
        if (!failure.isEmpty()) {
            std::fprintf(stderr, "turn %d failed: %s\n", t, qPrintable(failure));
            return 1;
        }
        std::printf("%5d %14d %14d %10.2f %10d\n", t, last.promptTokens, last.reusedPromptTokens,
                    last.timeToFirstTokenMs, last.droppedTurns);
        req.turns.push_back({QStringLiteral("assistant"), last.text});
    }
    return 0;
}
