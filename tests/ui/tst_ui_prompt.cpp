// Context management: the oldest turns are dropped to fit the context, the system prompt and the
// newest turn always stay, and a single turn too long for the context is an error.
#include "common/shared_data.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "session/prompt_builder.h"
#include "tokenizer/tokenizer.h"

#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;

namespace {

QString filler(int sentences, const QString& marker)
{
    QString s = marker + QStringLiteral(". ");
    for (int i = 0; i < sentences; ++i)
        s += QStringLiteral("The cat sat on the mat and looked at the sun. ");
    return s;
}

} // namespace

class TestUiPrompt : public QObject {
    Q_OBJECT
    std::unique_ptr<Tokenizer> tokenizer_;

private slots:
    void initTestCase()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/stories260K.gguf"));
        const auto file = GGUFFile::open(test::sharedFile("models/stories260K.gguf"));
        tokenizer_ = Tokenizer::fromGGUF(*file);
    }

    void shortConversationKeepsEverything()
    {
        const ChatTemplate plain = ChatTemplate::plainCompletion();
        ChatRequest r;
        r.systemPrompt = QStringLiteral("Stories.");
        r.turns = {{QStringLiteral("user"), QStringLiteral("Once upon a time")}};
        r.sampling.maxTokens = 64;
        const BuiltPrompt p = buildPrompt(*tokenizer_, plain, r, 512);
        QCOMPARE(p.droppedTurns, 0);
        QCOMPARE(p.reservedForReply, 64);
        QVERIFY(!p.tokens.empty());
        QCOMPARE(p.tokens.front(), tokenizer_->bos()); // exactly one BOS
        QCOMPARE(int(std::count(p.tokens.begin(), p.tokens.end(), tokenizer_->bos())), 1);
        const QString text = QString::fromStdString(tokenizer_->decode(p.tokens));
        QVERIFY(text.contains(QStringLiteral("Once upon a time")));
        QVERIFY(text.contains(QStringLiteral("Stories.")));
    }

    void longConversationDropsOldestTurns()
    {
        const ChatTemplate plain = ChatTemplate::plainCompletion();
        ChatRequest r;
        r.systemPrompt = QStringLiteral("SYSTEMPROMPT");
        for (int i = 0; i < 8; ++i)
            r.turns.push_back({i % 2 ? QStringLiteral("assistant") : QStringLiteral("user"),
                               filler(8, QStringLiteral("TURN%1").arg(i))});
        r.sampling.maxTokens = 100;
        const BuiltPrompt p = buildPrompt(*tokenizer_, plain, r, 512);
        QVERIFY(p.droppedTurns > 0);
        QVERIFY(int(p.tokens.size()) <= 512 - 100);
        const QString text = QString::fromStdString(tokenizer_->decode(p.tokens));
        QVERIFY(text.contains(QStringLiteral("SYSTEMPROMPT")));
        QVERIFY(text.contains(QStringLiteral("TURN7")));
        QVERIFY(!text.contains(QStringLiteral("TURN0")));
        // Exactly the first droppedTurns turns are gone, the rest are there.
        for (int i = 0; i < 8; ++i)
            QCOMPARE(text.contains(QStringLiteral("TURN%1.").arg(i)), i >= p.droppedTurns);
        // The kept history starts with a user turn.
        QCOMPARE(p.droppedTurns % 2, 0);

        // One more turn of room would not have fitted: dropping fewer turns overflows.
        ChatRequest fewer = r;
        fewer.turns.erase(fewer.turns.begin(), fewer.turns.begin() + (p.droppedTurns - 2));
        QVERIFY(buildPrompt(*tokenizer_, plain, fewer, 512).droppedTurns == 2);
    }

    void oversizedSingleTurnIsAnError()
    {
        const ChatTemplate plain = ChatTemplate::plainCompletion();
        ChatRequest r;
        r.turns = {{QStringLiteral("user"), filler(200, QStringLiteral("HUGE"))}};
        r.sampling.maxTokens = 64;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, buildPrompt(*tokenizer_, plain, r, 512));
    }

    void chatTemplateMarkupIsTokenizedAsControlTokens()
    {
        // ChatML markers must become single control tokens when the vocab has them; stories260K has
        // none, so they stay text and the prompt still fits and ends with the assistant header.
        const ChatTemplate chatml = ChatTemplate::builtin(BuiltinTemplate::ChatML);
        ChatRequest r;
        r.turns = {{QStringLiteral("user"), QStringLiteral("Hi")}};
        const BuiltPrompt p = buildPrompt(*tokenizer_, chatml, r, 512);
        const QString text = QString::fromStdString(tokenizer_->decode(p.tokens));
        QVERIFY(text.contains(QStringLiteral("Hi")));
        QVERIFY(text.trimmed().endsWith(QStringLiteral("assistant")));
    }
};

QTEST_GUILESS_MAIN(TestUiPrompt)
#include "tst_ui_prompt.moc"
