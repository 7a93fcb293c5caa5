// Pre-tokenizer splits for the regexes that have no vocab test file here, worked out by hand from
// the regex semantics (leftmost match, ordered alternation, unmatched text kept as its own word);
// Unicode classes; UTF-8 helpers.
#include "core/error.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

#include <QtTest>

using namespace tenfold;

namespace {

QStringList splitWords(const char* preName, const std::string& text)
{
    auto pre = PreTokenizer::create(preName);
    const std::vector<uint32_t> cps = unicode::decodeUtf8Lossy(text);
    QStringList words;
    for (const auto& w : pre->split(cps)) {
        std::string s;
        for (size_t i = w.begin; i < w.end; ++i)
            unicode::appendUtf8(s, cps[i]);
        words << QString::fromStdString(s);
    }
    return words;
}

} // namespace

class PreTokenizerTest : public QObject {
    Q_OBJECT

private slots:
    void splits_data()
    {
        QTest::addColumn<QString>("pre");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("words");
        const QString mixed = "Hello, World!! 12345 it'S\r\n\n  x";
        // Llama 3: "'S" is a contraction (case-insensitive); digits in threes; "\s*[\r\n]+" takes
        // the whitespace up to the last newline; "\s+(?!\S)" leaves one space for " x".
        QTest::newRow("llama-bpe") << "llama-bpe" << mixed
                                   << QStringList{"Hello", ",", " World", "!!", " ", "123", "45",
                                                  " it", "'S", "\r\n\n", " ", " x"};
        QTest::newRow("qwen2") << "qwen2" << mixed
                               << QStringList{"Hello", ",", " World", "!!", " ", "1", "2", "3",
                                              "4", "5", " it", "'S", "\r\n\n", " ", " x"};
        // GPT-2: contractions are lowercase only; " ?\p{N}+" keeps the space with the number.
        QTest::newRow("gpt-2") << "gpt-2" << mixed
                               << QStringList{"Hello", ",", " World", "!!", " 12345", " it", "'",
                                              "S", "\r\n\n ", " x"};
        QTest::newRow("llama3-tabs") << "llama3" << "a\tb  \t"
                                     << QStringList{"a", "\tb", "  \t"};
        QTest::newRow("falcon") << "falcon" << "x $100+200 1234"
                                << QStringList{"x", " ", "$", "100", "+", "200", " ", "123", "4"};
        QTest::newRow("default") << "default" << "a=b 12345"
                                 << QStringList{"a", "=", "b", " ", "123", "45"};
        QTest::newRow("starcoder") << "starcoder" << "v12 x"
                                   << QStringList{"v", "1", "2", " x"};
        QTest::newRow("deepseek-coder")
            << "deepseek-coder" << QString::fromUtf8("a1\n\u03b2\u03b3 \u6771\u4eac, ok")
            << QStringList{"a", "1", "\n", QString::fromUtf8("\u03b2\u03b3"), " ",
                           QString::fromUtf8("\u6771\u4eac"), ",", " ok"};
        QTest::newRow("deepseek-llm")
            << "deepseek-llm" << QString::fromUtf8("Hi!! \u6771\u4eac 42  \n")
            << QStringList{"Hi", "!!", " ", QString::fromUtf8("\u6771\u4eac"), " ", "42", "  ",
                           "\n"};
        QTest::newRow("bloom") << "bloom" << "Hi there, you."
                               << QStringList{"Hi", " there", ",", " you", "."};
        // GPT-4o / Tekken: upper-case runs end where lower case begins; non-ASCII letters count
        // as both cases ("ÀB": U*=ÀB leaves no W, backtrack to U*="" and W+="À").
        const QString cased = QString::fromUtf8("HELLOworld isn't \u00c0B 12345");
        QTest::newRow("gpt-4o") << "gpt-4o" << cased
                                << QStringList{"HELLOworld", " isn't", QString::fromUtf8(" \u00c0"),
                                               "B", " ", "123", "45"};
        QTest::newRow("tekken") << "tekken" << cased
                                << QStringList{"HELLOworld", " isn", "'t", QString::fromUtf8(" \u00c0"),
                                               "B", " ", "1", "2", "3", "4", "5"};
        QTest::newRow("empty") << "gpt-2" << "" << QStringList{};
    }
    void splits()
    {
        QFETCH(QString, pre);
        QFETCH(QString, text);
        QFETCH(QStringList, words);
        QCOMPARE(splitWords(pre.toUtf8().constData(), text.toStdString()), words);
    }

    void unknownNameIsUnsupported()
    {
        try {
            PreTokenizer::create("klingon-bpe");
            QFAIL("unknown pre-tokenizer accepted");
        } catch (const UnsupportedError& e) {
            QVERIFY(std::string(e.what()).find("klingon-bpe") != std::string::npos);
        }
        QVERIFY(PreTokenizer::create("llama-bpe")->ignoreMerges());
        QVERIFY(!PreTokenizer::create("gpt-2")->ignoreMerges());
        QCOMPARE(PreTokenizer::create("")->name(), std::string("default"));
    }

    void characterClasses()
    {
        using unicode::CharClass;
        using unicode::classOf;
        QCOMPARE(classOf('A'), CharClass::Letter);
        QCOMPARE(classOf('7'), CharClass::Number);
        QCOMPARE(classOf(','), CharClass::Punctuation);
        QCOMPARE(classOf('~'), CharClass::Symbol);
        QCOMPARE(classOf(' '), CharClass::Whitespace);
        QCOMPARE(classOf('\n'), CharClass::Whitespace);
        QCOMPARE(classOf(0x00), CharClass::Other);
        QCOMPARE(classOf(0x85), CharClass::Whitespace);    // NEL: Cc, but White_Space
        QCOMPARE(classOf(0xA0), CharClass::Whitespace);    // NO-BREAK SPACE
        QCOMPARE(classOf(0x3000), CharClass::Whitespace);  // IDEOGRAPHIC SPACE
        QCOMPARE(classOf(0x200B), CharClass::Other);       // ZERO WIDTH SPACE is Cf
        QCOMPARE(classOf(0x0301), CharClass::Mark);
        QCOMPARE(classOf(0x0660), CharClass::Number);      // ARABIC-INDIC DIGIT ZERO
        QCOMPARE(classOf(0x2167), CharClass::Number);      // ROMAN NUMERAL EIGHT (Nl)
        QCOMPARE(classOf(0x00E9), CharClass::Letter);
        QCOMPARE(classOf(0x4E00), CharClass::Letter);
        QCOMPARE(classOf(0x2014), CharClass::Punctuation); // EM DASH
        QCOMPARE(classOf(0x1F600), CharClass::Symbol);     // emoji (So)
        QCOMPARE(classOf(0x20000), CharClass::Letter);     // CJK Extension B
        QCOMPARE(classOf(0x10FFFF), CharClass::Other);
        QCOMPARE(classOf(0x110000), CharClass::Other);
        QVERIFY(unicode::isDeepseekLlmLetter(0x2126));     // OHM SIGN
        QVERIFY(unicode::isDeepseekLlmLetter('z'));
        QVERIFY(!unicode::isDeepseekLlmLetter(0x4E00));
    }

    void utf8Helpers()
    {
        using namespace unicode;
        QCOMPARE(decodeUtf8Lossy("a\xC3\xA9\xFF"), (std::vector<uint32_t>{'a', 0xE9, 0xFFFD}));
        QCOMPARE(decodeUtf8Lossy("\xC0\x80"), (std::vector<uint32_t>{0xFFFD, 0xFFFD})); // overlong
        QCOMPARE(decodeUtf8Lossy("\xED\xA0\x80").size(), size_t(3));                  // surrogate
        std::string s;
        appendUtf8(s, 0x1F600);
        QCOMPARE(s, std::string("\xF0\x9F\x98\x80"));
        QCOMPARE(completeUtf8Prefix("ab"), size_t(2));
        QCOMPARE(completeUtf8Prefix("a\xE6\x9D"), size_t(1));
        QCOMPARE(completeUtf8Prefix("a\xE6\x9D\xB1"), size_t(4));
        QCOMPARE(completeUtf8Prefix("a\xF0\x9F\x98"), size_t(1));
        QCOMPARE(completeUtf8Prefix("a\xFF"), size_t(2));     // never completes: not held
        QCOMPARE(completeUtf8Prefix("a\xE0\x80"), size_t(3)); // overlong start: not held
        QCOMPARE(sanitizeUtf8("a\xE6\x9D"), std::string("a\xEF\xBF\xBD"));
        QCOMPARE(sanitizeUtf8("\xFF" "b"), std::string("\xEF\xBF\xBD" "b"));
        QCOMPARE(sanitizeUtf8("\xC3\xA9"), std::string("\xC3\xA9"));
    }
};

QTEST_GUILESS_MAIN(PreTokenizerTest)
#include "tst_pre_tokenizer.moc"
