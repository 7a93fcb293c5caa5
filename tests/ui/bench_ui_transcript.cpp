// Desktop responsiveness benchmark (not a test: it prints figures, it asserts nothing). Opens a
// conversation of N stored messages in the real window (offscreen) and streams tokens into its
// last card the way ChatPage does, then prints the time to open, the time per appended token and
// the longest event-loop iteration. See docs/BENCHMARKS.md, "Desktop responsiveness".
//
//   QT_QPA_PLATFORM=offscreen build-ui/tests/ui/bench_ui_transcript [messages=2000] [tokens=2000]
#include "long_conversation.h"

#include "chat/chat_page.h"
#include "chat/message_bubble.h"
#include "chat/transcript_view.h"
#include "core/app_context.h"
#include "core/application.h"
#include "core/main_window.h"
#include "core/theme.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace tenfold;
using namespace tenfold::ui;

namespace {

// Runs the event loop until nothing is left to do (layouts, paints, queued results).
void settle()
{
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents(QEventLoop::AllEvents);
}

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    const int messages = argc > 1 ? std::max(2, atoi(argv[1])) : 2000;
    const int tokens = argc > 2 ? std::max(1, atoi(argv[2])) : 2000;

    QTemporaryDir dir;
    QElapsedTimer clock;
    clock.start();
    const qint64 id = test::writeLongConversation(dir.path(), messages);
    std::printf("wrote %d messages in %.0f ms\n", messages, double(clock.elapsed()));

    LaunchOptions options;
    options.dataDir = dir.path();
    Application application(app, options);
    application.window().resize(1280, 860);
    application.window().show();
    settle();
    auto* chat = qobject_cast<ChatPage*>(application.window().page(QStringLiteral("chat")));

    // Open: from the click to the transcript laid out and painted, store read included.
    bool opened = false;
    double builtMs = 0;
    QObject::connect(chat, &ChatPage::conversationOpened, [&] {
        opened = true;
        builtMs = double(clock.nsecsElapsed()) / 1e6;
    });
    clock.restart();
    chat->openConversation(id);
    while (!opened)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    settle();
    application.window().grab(); // force a full paint of what is on screen
    const double openMs = double(clock.nsecsElapsed()) / 1e6;
    std::printf("open %d-message conversation: %.1f ms to laid out and painted (%.1f ms to messages read and "
                "%d cards built)\n",
                messages, openMs, builtMs, int(chat->transcript()->bubbles().size()));

    // Again, now that fonts and caches are warm (what every later switch between chats costs).
    chat->newChat();
    settle();
    opened = false;
    clock.restart();
    chat->openConversation(id);
    while (!opened)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    settle();
    application.window().grab();
    std::printf("open again: %.1f ms to laid out and painted (%.1f ms to messages read and cards built)\n",
                double(clock.nsecsElapsed()) / 1e6, builtMs);

    // Stream: one token per event-loop turn into the last card, following the bottom, with the
    // card's own 90 ms render throttle doing the Markdown.
    MessageBubble* last = chat->transcript()->lastBubble();
    last->setState(MessageState::Streaming);
    std::vector<double> turns;
    turns.reserve(size_t(tokens));
    QElapsedTimer total;
    total.start();
    for (int i = 0; i < tokens; ++i) {
        QElapsedTimer t;
        t.start();
        last->appendText(i % 12 == 11 ? QStringLiteral("\n\n") : QStringLiteral(" word%1").arg(i));
        chat->transcript()->followIfAtBottom();
        QCoreApplication::processEvents();
        turns.push_back(double(t.nsecsElapsed()) / 1e6);
        if (i % 50 == 0) {
            // A model gives a token every ~25 ms or more; let the render throttle fire as it would.
            QElapsedTimer wait;
            wait.start();
            while (wait.elapsed() < MessageBubble::kStreamRenderIntervalMs + 5)
                QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        }
    }
    last->setState(MessageState::Complete);
    settle();
    std::vector<double> sorted = turns;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double v : turns)
        sum += v;
    std::printf("append %d tokens: mean %.3f ms per token, p99 %.2f ms, max %.1f ms (reply %lld chars, %d renders)\n",
                tokens, sum / double(tokens), sorted[size_t(double(sorted.size() - 1) * 0.99)], sorted.back(),
                qint64(last->text().size()), last->renderCount());
    // The same cost at the start and at the end of the reply means appends do not grow with it.
    const size_t tenth = std::max<size_t>(1, turns.size() / 10);
    double first = 0, lastTenth = 0;
    for (size_t i = 0; i < tenth; ++i) {
        first += turns[i];
        lastTenth += turns[turns.size() - 1 - i];
    }
    std::printf("mean per token, first tenth %.3f ms, last tenth %.3f ms\n", first / double(tenth),
                lastTenth / double(tenth));
    return 0;
}
