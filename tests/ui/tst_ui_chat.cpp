// Chat end to end: the real window, the real engine on stories260K / ref-main, the real store.
#include "gui_test_support.h"

#include "chat/chat_page.h"
#include "chat/composer.h"
#include "chat/conversation_list_model.h"
#include "chat/conversation_settings_panel.h"
#include "chat/message_bubble.h"
#include "chat/transcript_view.h"
#include "core/app_context.h"
#include "core/main_window.h"
#include "session/backend_factory.h"
#include "session/model_host.h"
#include "store/response_cache.h"
#include "store/store.h"

#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <QUrl>
#include <QToolButton>
#include <QDir>
#include <QFileInfo>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

ChatPage* chatPage(Application& app)
{
    return qobject_cast<ChatPage*>(app.window().page(QStringLiteral("chat")));
}

// Launches with --model and waits until the model is loaded into a fresh chat.
std::unique_ptr<Application> launchWithModel(const QString& dir, const QString& model)
{
    auto app = launch(dir, model);
    app->window().show();
    const bool ok = waitUntil([&] {
        return app->context().host().isLoaded() && chatPage(*app)->settingsPanel()->modelPath() == model;
    }, 60000);
    if (!ok)
        qWarning("model did not load: state %d", int(app->context().host().state()));
    return ok ? std::move(app) : nullptr;
}

// Types into the composer, presses Enter and waits for the reply to end.
bool sendAndWait(ChatPage* chat, const QString& text, int timeoutMs = 60000)
{
    QSignalSpy finished(chat, &ChatPage::replyFinished);
    chat->composer()->setFocus();
    chat->composer()->setPlainText(text);
    QTest::keyClick(chat->composer(), Qt::Key_Return);
    return finished.count() > 0 || finished.wait(timeoutMs);
}

// Opens a conversation and waits until its messages arrived from the store thread.
bool openAndWait(ChatPage* chat, qint64 id)
{
    chat->openConversation(id);
    return waitUntil([&] { return chat->currentConversationId() == id; }, 10000);
}

QToolButton* bubbleButton(MessageBubble* bubble, const QString& tip)
{
    for (QToolButton* b : bubble->findChildren<QToolButton*>())
        if (b->toolTip() == tip)
            return b;
    return nullptr;
}

} // namespace

class TestUiChat : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
    }

    void sendStreamsReplyAndPersistsIt()
    {
        QTemporaryDir dir;
        auto app = launchWithModel(dir.path(), stories260K());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        chat->settingsPanel()->seedBox()->setValue(42);
        chat->settingsPanel()->maxTokensBox()->setValue(60);

        QString streamed;
        QSignalSpy chunks(&app->context().host(), &ModelHost::textStreamed);
        connect(&app->context().host(), &ModelHost::textStreamed, this,
                [&](quint64, const QString& c) { streamed += c; });
        QVERIFY(sendAndWait(chat, QStringLiteral("Once upon a time")));
        QVERIFY2(chunks.count() >= 1, "no text was streamed");
        QVERIFY(chat->composer()->toPlainText().isEmpty());

        const auto bubbles = chat->transcript()->bubbles();
        QCOMPARE(bubbles.size(), 2);
        QCOMPARE(bubbles[0]->text(), QStringLiteral("Once upon a time"));
        QVERIFY(!bubbles[1]->text().trimmed().isEmpty());
        QCOMPARE(bubbles[1]->text(), streamed);
        QVERIFY2(bubbles[1]->statsLabel()->text().contains(QStringLiteral("tokens/s")),
                 qPrintable(bubbles[1]->statsLabel()->text()));

        Store& store = storeAfterPendingWrites(*app);
        const auto messages = store.messages(chat->currentConversationId());
        QCOMPARE(int(messages.size()), 2);
        QCOMPARE(messages[1].role, std::string("assistant"));
        QCOMPARE(messages[1].state, MessageState::Complete);
        QCOMPARE(QString::fromStdString(messages[1].content), streamed);
        QVERIFY(messages[1].stats.tokensOut > 0 && messages[1].stats.tokensOut <= 60);
        QVERIFY(messages[1].stats.tokensIn >= 4);
        const auto usage = store.usage();
        QCOMPARE(int(usage.size()), 1);
        QCOMPARE(usage[0].tokensOut, messages[1].stats.tokensOut);
        QCOMPARE(usage[0].messageId, messages[1].id);
        QCOMPARE(usage[0].device, std::string("cpu"));
    }

    // A draft model for the conversation (speculative decoding): the greedy reply is the same as
    // without it, the status line reports the share of proposals kept, the choice is stored with
    // the conversation, and a draft that cannot serve (another vocabulary) fails the reply with
    // the reason instead of crashing.
    void draftModelKeepsTheReplyAndShowsAcceptance()
    {
        QTemporaryDir dir;
        auto app = launchWithModel(dir.path(), stories260K());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        ConversationSettingsPanel* panel = chat->settingsPanel();
        panel->temperatureBox()->setValue(0);
        panel->maxTokensBox()->setValue(40);
        QVERIFY(sendAndWait(chat, QStringLiteral("Once upon a time")));
        const QString plain = chat->transcript()->bubbles().last()->text();
        QVERIFY(!plain.trimmed().isEmpty());

        // Regenerate the same reply, now with the model as its own draft: every proposal is kept.
        // The greedy reply is in the response cache now and would be answered from it: empty it
        // so the draft really runs.
        ResponseCache(std::filesystem::path(dir.path().toStdString()) / Store::kFileName).clear();
        panel->setDraftModelPath(stories260K());
        QCOMPARE(panel->sampling().draftModelPath, stories260K());
        {
            QSignalSpy finished(chat, &ChatPage::replyFinished);
            chat->regenerate();
            QVERIFY(finished.wait(60000));
        }
        const auto bubbles = chat->transcript()->bubbles();
        QCOMPARE(bubbles.size(), 2);
        QCOMPARE(bubbles.last()->text(), plain);
        QVERIFY2(chat->statusLabel()->text().contains(QStringLiteral("proposed tokens kept")),
                 qPrintable(chat->statusLabel()->text()));
        QVERIFY2(chat->statusLabel()->text().contains(QStringLiteral("100%")), qPrintable(chat->statusLabel()->text()));

        Store& store = storeAfterPendingWrites(*app);
        const auto conv = store.conversation(chat->currentConversationId());
        QVERIFY(conv.has_value());
        QCOMPARE(SamplingSettings::fromJson(QString::fromStdString(conv->settingsJson)).draftModelPath, stories260K());

        panel->setDraftModelPath(refMain()); // 8,192-token vocabulary against 512
        QSignalSpy failed(&app->context().host(), &ModelHost::generationFailed);
        chat->composer()->setPlainText(QStringLiteral("Once upon a time"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(failed.count() > 0 || failed.wait(60000));
        QVERIFY2(failed.last().at(1).toString().contains(QStringLiteral("vocabulary")),
                 qPrintable(failed.last().at(1).toString()));
    }

    void regenerateWithSameSeedRepeatsAndEditResends()
    {
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) { s.setBackend(BackendChoice::Cpu); });
        auto app = launchWithModel(dir.path(), stories260K());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        chat->settingsPanel()->seedBox()->setValue(7);
        chat->settingsPanel()->maxTokensBox()->setValue(40);
        QVERIFY(sendAndWait(chat, QStringLiteral("The little dog")));
        Store& store = storeAfterPendingWrites(*app);
        const auto first = store.messages(chat->currentConversationId());
        QCOMPARE(int(first.size()), 2);

        QToolButton* regen = bubbleButton(chat->transcript()->lastBubble(), MessageBubble::tr("Regenerate"));
        QVERIFY(regen && regen->isVisible());
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        QTest::mouseClick(regen, Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        const auto second = store.messages(chat->currentConversationId());
        QCOMPARE(int(second.size()), 2);
        QVERIFY(second[1].id != first[1].id);
        // Same seed, same prompt: the sampler must pick the same tokens.
        QCOMPARE(second[1].content, first[1].content);

        QToolButton* edit = bubbleButton(chat->transcript()->bubbles().front(), MessageBubble::tr("Edit and resend"));
        QVERIFY(edit);
        QTest::mouseClick(edit, Qt::LeftButton);
        QCOMPARE(chat->composer()->toPlainText(), QStringLiteral("The little dog"));
        QVERIFY(sendAndWait(chat, QStringLiteral("A big cat")));
        const auto third = store.messages(chat->currentConversationId());
        QCOMPARE(int(third.size()), 2);
        QCOMPARE(third[0].content, std::string("A big cat"));
        QCOMPARE(third[1].state, MessageState::Complete);
    }

    void renameRegenerateWhileLoadingAndSwitching()
    {
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) { s.setBackend(BackendChoice::Cpu); });
        auto app = launchWithModel(dir.path(), stories260K());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        Store& store = storeAfterPendingWrites(*app);
        ModelHost& host = app->context().host();
        chat->settingsPanel()->maxTokensBox()->setValue(10);
        QVERIFY(sendAndWait(chat, QStringLiteral("Hello there")));
        const qint64 id = chat->currentConversationId();

        // Renaming the open conversation survives the next settings save.
        QVERIFY(chat->conversationModel()->setData(chat->conversationModel()->index(chat->conversationModel()->rowOfId(id)),
                                                   QStringLiteral("Renamed"), Qt::EditRole));
        chat->settingsPanel()->maxTokensBox()->setValue(12);
        app->context().storeWorker().drain();
        QCOMPARE(store.conversation(id)->title, std::string("Renamed"));

        // Palette changes refresh the search icon instead of adding another one.
        const auto actionsBefore = chat->searchField()->actions().size();
        chat->refreshIcons();
        chat->refreshIcons();
        QCOMPARE(chat->searchField()->actions().size(), actionsBefore);

        // Regenerate while the model must load first: the old reply stays until the new one starts.
        const auto before = store.messages(id);
        QCOMPARE(int(before.size()), 2);
        QSignalSpy unloaded(&host, &ModelHost::unloaded);
        host.unload();
        QVERIFY(unloaded.wait(10000));
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        chat->regenerate();
        QVERIFY(chat->isReplying());
        QCOMPARE(int(store.messages(id).size()), 2);
        QCOMPARE(store.messages(id)[1].id, before[1].id);
        QVERIFY(finished.wait(60000));
        const auto after = store.messages(id);
        QCOMPARE(int(after.size()), 2);
        QVERIFY(after[1].id != before[1].id);

        // A pending reply is dropped, with a word why, when another conversation is opened.
        host.unload();
        QVERIFY(unloaded.wait(10000));
        QSignalSpy loaded(&host, &ModelHost::loaded);
        chat->regenerate();
        QVERIFY(chat->isReplying());
        chat->newChat();
        QVERIFY(loaded.wait(60000));
        QVERIFY(!chat->isReplying());
        QVERIFY(chat->statusLabel()->text().contains(QStringLiteral("another conversation")));
        QCOMPARE(chat->currentConversationId(), qint64(0));
        const auto untouched = store.messages(id);
        QCOMPARE(int(untouched.size()), 2);
        QCOMPARE(untouched[1].id, after[1].id);
    }

    void onlyWebLinksOpen()
    {
        QVERIFY(MessageBubble::isWebLink(QUrl(QStringLiteral("https://example.org/a"))));
        QVERIFY(MessageBubble::isWebLink(QUrl(QStringLiteral("HTTP://example.org"))));
        QVERIFY(!MessageBubble::isWebLink(QUrl(QStringLiteral("file:///etc/passwd"))));
        QVERIFY(!MessageBubble::isWebLink(QUrl(QStringLiteral("javascript:alert(1)"))));
        QVERIFY(!MessageBubble::isWebLink(QUrl(QStringLiteral("smb://host/share"))));
        StoredMessage m;
        m.role = "assistant";
        MessageBubble bubble(m, QStringLiteral("A"));
        QVERIFY(!bubble.contentLabel()->openExternalLinks());

        // Streamed chunks are rendered together after a short delay, not once per chunk.
        bubble.setState(MessageState::Streaming);
        const QString empty = bubble.contentLabel()->text();
        bubble.appendText(QStringLiteral("**bold"));
        bubble.appendText(QStringLiteral("** text"));
        QCOMPARE(bubble.contentLabel()->text(), empty);
        QCOMPARE(bubble.text(), QStringLiteral("**bold** text"));
        QVERIFY(waitUntil([&] { return bubble.contentLabel()->text().contains(QStringLiteral("bold")); },
                          MessageBubble::kStreamRenderIntervalMs * 20));
        bubble.appendText(QStringLiteral(" more"));
        bubble.setState(MessageState::Complete); // the final render happens at once
        QVERIFY(bubble.contentLabel()->text().contains(QStringLiteral("more")));
    }

    void switchConversationsSearchDeleteAndRestart()
    {
        QTemporaryDir dir;
        qint64 firstId = 0, secondId = 0;
        {
            auto app = launchWithModel(dir.path(), stories260K());
            QVERIFY(app);
            ChatPage* chat = chatPage(*app);
            chat->settingsPanel()->maxTokensBox()->setValue(20);
            QVERIFY(sendAndWait(chat, QStringLiteral("Tim found a red ball")));
            firstId = chat->currentConversationId();
            QTest::keyClick(&app->window(), Qt::Key_N, Qt::ControlModifier); // new chat
            QCOMPARE(chat->currentConversationId(), qint64(0));
            QCOMPARE(chat->transcript()->bubbles().size(), 0);
            chat->settingsPanel()->maxTokensBox()->setValue(20);
            QVERIFY(sendAndWait(chat, QStringLiteral("Lily saw a bird")));
            secondId = chat->currentConversationId();
            QVERIFY(secondId != firstId);
            QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 2; }, 3000));

            // Switch back by clicking the first conversation in the list.
            const int row = chat->conversationModel()->rowOfId(firstId);
            const QRect rect = chat->conversationList()->visualRect(chat->conversationModel()->index(row));
            QTest::mouseClick(chat->conversationList()->viewport(), Qt::LeftButton, {}, rect.center());
            QVERIFY(waitUntil([&] { return chat->currentConversationId() == firstId; }, 10000));
            QCOMPARE(chat->transcript()->bubbles().front()->text(), QStringLiteral("Tim found a red ball"));

            // Search matches message text, not only titles.
            QTest::keyClicks(chat->searchField(), QStringLiteral("bird"));
            QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 1; }, 3000));
            QCOMPARE(chat->conversationModel()->idAt(0), secondId);
            chat->searchField()->clear();
            QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 2; }, 3000));

            // Delete, undo, delete again (to be purged on restart).
            QVERIFY(openAndWait(chat, secondId));
            chat->deleteCurrentConversation();
            QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 1; }, 10000));
            QVERIFY(chat->undoBar()->isVisible());
            QVERIFY(waitUntil([&] { return chat->currentConversationId() == firstId; }, 10000));
            chat->undoDelete();
            QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 2; }, 10000));
            QVERIFY(waitUntil([&] { return chat->currentConversationId() == secondId; }, 10000));
        }
        // Restart over the same data folder: the history is there.
        auto app = launch(dir.path());
        app->window().show();
        ChatPage* chat = chatPage(*app);
        QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 2; }, 10000));
        QVERIFY(openAndWait(chat, firstId));
        const auto bubbles = chat->transcript()->bubbles();
        QCOMPARE(bubbles.size(), 2);
        QCOMPARE(bubbles[0]->text(), QStringLiteral("Tim found a red ball"));
        QVERIFY(!bubbles[1]->text().isEmpty());
        QCOMPARE(bubbles[1]->state(), MessageState::Complete);
    }

    // The conversation cache outlives the app: quitting saves it (data folder/kv-cache), and after
    // a restart the next turn of the same conversation reuses the earlier turns' keys and values
    // instead of recomputing them.
    void conversationCacheSurvivesRestart()
    {
        QTemporaryDir dir;
        qint64 id = 0;
        {
            auto app = launchWithModel(dir.path(), stories260K());
            QVERIFY(app);
            ChatPage* chat = chatPage(*app);
            chat->settingsPanel()->maxTokensBox()->setValue(24);
            QVERIFY(sendAndWait(chat, QStringLiteral("Tim found a red ball in the garden and")));
            id = chat->currentConversationId();
        }
        int files = 0;
        for (const QFileInfo& f : QDir(dir.filePath(QStringLiteral("kv-cache"))).entryInfoList(QDir::Files))
            files += f.fileName().startsWith(QStringLiteral("conversation-"));
        QCOMPARE(files, 1);
        auto app = launchWithModel(dir.path(), stories260K());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        QVERIFY(waitUntil([&] { return chat->conversationModel()->rowCount() == 1; }, 10000));
        QVERIFY(openAndWait(chat, id));
        chat->settingsPanel()->maxTokensBox()->setValue(8);
        QVERIFY(sendAndWait(chat, QStringLiteral("Then Lily came")));
        const auto& totals = app->context().host().replyTotals();
        QVERIFY2(totals.reusedPromptTokens >= 10,
                 qPrintable(QStringLiteral("reused %1, computed %2").arg(totals.reusedPromptTokens).arg(totals.computedPromptTokens)));
    }

    void interruptedReplyShowsAsInterrupted()
    {
        QTemporaryDir dir;
        qint64 conversationId = 0;
        {
            Store store(dir.path().toStdString());
            Conversation c;
            c.title = "Crashed mid-reply";
            conversationId = store.createConversation(c);
            NewMessage user;
            user.role = "user";
            user.content = "Tell me a story";
            store.appendMessage(conversationId, user);
            const int64_t reply = store.beginStreamingMessage(conversationId, "assistant", "stories260K");
            store.appendStreamingText(reply, "Once upon a time there was");
            store.flush();
            // The process "dies" here: the reply is never finished.
        }
        auto app = launch(dir.path());
        ChatPage* chat = chatPage(*app);
        QVERIFY(openAndWait(chat, conversationId));
        MessageBubble* last = chat->transcript()->lastBubble();
        QVERIFY(last);
        QCOMPARE(last->state(), MessageState::Interrupted);
        QCOMPARE(last->text(), QStringLiteral("Once upon a time there was"));
        QVERIFY(!last->stateLabel()->isHidden());
    }

    void longConversationDropsOldestTurnsAndSaysSo()
    {
        QTemporaryDir dir;
        qint64 conversationId = 0;
        {
            Store store(dir.path().toStdString());
            Conversation c;
            c.title = "Long";
            c.modelPath = QFileInfo(stories260K()).absoluteFilePath().toStdString();
            c.systemPrompt = "Stories for children.";
            c.settingsJson = R"({"max_tokens":64,"seed":1})";
            conversationId = store.createConversation(c);
            std::string para;
            for (int i = 0; i < 40; ++i)
                para += "The cat sat on the mat and looked at the sun. ";
            for (int i = 0; i < 6; ++i) {
                store.appendMessage(conversationId, {"user", para, "", "{}", {}, MessageState::Complete});
                store.appendMessage(conversationId, {"assistant", para, "", "{}", {}, MessageState::Complete});
            }
        }
        auto app = launch(dir.path());
        app->window().show();
        ChatPage* chat = chatPage(*app);
        QVERIFY(openAndWait(chat, conversationId));
        QSignalSpy started(&app->context().host(), &ModelHost::generationStarted);
        QVERIFY(sendAndWait(chat, QStringLiteral("And then?"), 90000));
        QCOMPARE(started.count(), 1);
        const int dropped = started.at(0).at(1).toInt();
        QVERIFY2(dropped > 0, "the conversation should not fit the context");
        bool noticeShown = false;
        for (QLabel* l : chat->transcript()->findChildren<QLabel*>(QStringLiteral("notice")))
            noticeShown = noticeShown || l->text().contains(QStringLiteral("left out"));
        QVERIFY(noticeShown);
        const auto messages = storeAfterPendingWrites(*app).messages(conversationId);
        QCOMPARE(messages.back().state, MessageState::Complete);
        const int contextSize = app->context().host().loadedModel()->contextSize;
        QVERIFY2(messages.back().stats.tokensIn <= contextSize - 64,
                 qPrintable(QStringLiteral("%1 prompt tokens, context %2")
                                .arg(messages.back().stats.tokensIn).arg(contextSize)));
        QVERIFY(messages.back().stats.tokensIn > contextSize / 2); // trimmed, not emptied
    }

    void sendingWithoutAModelKeepsTheText()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        ChatPage* chat = chatPage(*app);
        chat->composer()->setFocus();
        QTest::keyClicks(chat->composer(), QStringLiteral("Is anyone"));
        QTest::keyClick(chat->composer(), Qt::Key_Return, Qt::ShiftModifier); // a new line, not send
        QTest::keyClicks(chat->composer(), QStringLiteral("there?"));
        QCOMPARE(chat->composer()->toPlainText(), QStringLiteral("Is anyone\nthere?"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QCOMPARE(chat->composer()->toPlainText(), QStringLiteral("Is anyone\nthere?"));
        QVERIFY(chat->statusLabel()->text().contains(QStringLiteral("Models page")));
        QVERIFY(storeAfterPendingWrites(*app).listConversations().empty());
        QVERIFY(!chat->isReplying());
    }

    void storageFailureKeepsTheTextAndSaysWhy()
    {
        QTemporaryDir dir;
        auto app = launchWithModel(dir.path(), stories260K());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        chat->settingsPanel()->maxTokensBox()->setValue(10);
        QVERIFY(sendAndWait(chat, QStringLiteral("Hello")));
        // The conversation disappears underneath the window (another process, a broken disk):
        // the next write fails.
        storeAfterPendingWrites(*app).deleteConversationPermanently(chat->currentConversationId());
        QSignalSpy errors(&app->context(), &AppContext::storageError);
        chat->composer()->setPlainText(QStringLiteral("Do not lose me"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(errors.count() == 1 || errors.wait(10000));
        QCOMPARE(errors.count(), 1);
        QVERIFY(!app->window().banner()->isHidden());
        QVERIFY(app->window().banner()->text().contains(QStringLiteral("Could not save")));
        QCOMPARE(chat->composer()->toPlainText(), QStringLiteral("Do not lose me"));
        QVERIFY(!chat->isReplying());

        // The banner can be dismissed, and goes by itself once a store operation works again.
        QTest::mouseClick(app->window().bannerCloseButton(), Qt::LeftButton);
        QVERIFY(app->window().banner()->isHidden());
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(waitUntil([&] { return !app->window().banner()->isHidden(); }, 10000));
        app->context().storeWorker().post([](Store& store) { store.listConversations(); }, QStringLiteral("x"));
        QVERIFY(waitUntil([&] { return app->window().banner()->isHidden(); }, 10000));
    }

    void vulkanBackendRunsTheChatWhenPresent()
    {
        // An explicit Vulkan choice runs on any Vulkan device, lavapipe included, so this runs in CI.
        if (listGpuDevices(app::makeBackendRegistry().get(), true).empty())
            QSKIP("no Vulkan device on this machine (not even Mesa's lavapipe)");
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) { s.setBackend(BackendChoice::Vulkan); });
        auto app = launchWithModel(dir.path(), stories260K());
        QVERIFY(app);
        QVERIFY(app->context().host().loadedModel()->deviceTag.startsWith(QStringLiteral("vulkan:")));
        ChatPage* chat = chatPage(*app);
        chat->settingsPanel()->maxTokensBox()->setValue(30);
        QVERIFY(sendAndWait(chat, QStringLiteral("Once upon a time")));
        const auto messages = storeAfterPendingWrites(*app).messages(chat->currentConversationId());
        QCOMPARE(messages.back().state, MessageState::Complete);
        QVERIFY(messages.back().stats.tokensOut > 0);
        QVERIFY(QString::fromStdString(storeAfterPendingWrites(*app).usage().back().device).startsWith(QStringLiteral("vulkan:")));
    }

    void eventLoopStaysResponsiveAndStopWorks()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-main-f16.gguf"));
        QTemporaryDir dir;
        auto app = launchWithModel(dir.path(), refMain());
        QVERIFY(app);
        ChatPage* chat = chatPage(*app);
        chat->settingsPanel()->maxTokensBox()->setValue(256);
        chat->settingsPanel()->seedBox()->setValue(11); // reproducible: no early end-of-text

        // A 10 ms timer measures how late the GUI thread gets while the engine works.
        QElapsedTimer clock;
        qint64 last = -1, worst = 0;
        int ticks = 0;
        QTimer tick;
        tick.setInterval(10);
        connect(&tick, &QTimer::timeout, this, [&] {
            const qint64 now = clock.elapsed();
            if (last >= 0)
                worst = std::max(worst, now - last - 10);
            last = now;
            ++ticks;
        });
        QSignalSpy chunks(&app->context().host(), &ModelHost::textStreamed);
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        chat->composer()->setFocus();
        chat->composer()->setPlainText(QStringLiteral("The history of the city"));
        clock.start();
        tick.start();
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(finished.wait(60000));
        tick.stop();
        QVERIFY(chunks.count() >= 2);
        QVERIFY2(ticks >= 10, "the generation was too short to measure");
        qInfo("worst event-loop lateness while generating: %lld ms over %d ticks", worst, ticks);
        QVERIFY2(worst < 100, qPrintable(QStringLiteral("event loop was %1 ms late").arg(worst)));
        const auto done = storeAfterPendingWrites(*app).messages(chat->currentConversationId());
        QVERIFY2(done.back().stats.tokensOut > 50, qPrintable(QString::number(done.back().stats.tokensOut)));

        // Stop (Esc) as soon as the second reply starts streaming.
        chunks.clear();
        finished.clear();
        chat->composer()->setPlainText(QStringLiteral("In the morning"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(chunks.wait(30000));
        QCOMPARE(chat->sendButton()->text(), ChatPage::tr("Stop"));
        QTest::keyClick(chat->composer(), Qt::Key_Escape);
        QVERIFY(finished.count() > 0 || finished.wait(10000));
        QCOMPARE(finished.at(0).at(1).value<MessageState>(), MessageState::Stopped);
        const auto messages = storeAfterPendingWrites(*app).messages(chat->currentConversationId());
        QCOMPARE(int(messages.size()), 4);
        QCOMPARE(messages.back().state, MessageState::Stopped);
        QVERIFY(messages.back().stats.tokensOut < 256);
        QCOMPARE(QString::fromStdString(messages.back().content), chat->transcript()->lastBubble()->text());
        QCOMPARE(chat->transcript()->lastBubble()->state(), MessageState::Stopped);
        QCOMPARE(chat->sendButton()->text(), ChatPage::tr("Send"));
    }
};

QTEST_MAIN(TestUiChat)
#include "tst_ui_chat.moc"
