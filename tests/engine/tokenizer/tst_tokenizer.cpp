// The ref models' SentencePiece vocab against an independent reference, round trips, streaming
// decode, special tokens, BOS/EOS, llama2.c's tokenizer.bin, vocabs built from vectors, and the
// GGUF export of a vocab.
#include "common/shared_data.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_gguf.h"
#include "tokenizer/unicode.h"

#include "common/oracle.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <optional>

#include <fstream>
#include <sstream>

using namespace tenfold;
using Ids = std::vector<int32_t>;

namespace {

std::string readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> splitLines(const std::string& text)
{
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(text.substr(start, nl - start));
    lines.push_back(text.substr(start));
    return lines;
}

QString idsText(const Ids& ids)
{
    QStringList parts;
    for (int32_t id : ids)
        parts << QString::number(id);
    return parts.join(' ');
}

// A small SentencePiece vocab whose merges can be followed by hand.
TokenizerVocab tinySpmVocab()
{
    TokenizerVocab v;
    v.model = "llama";
    v.pieces = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "c", "\xE2\x96\x81" "a", "ab",
                "bc", "abc", "<0x64>", "<|user|>"};
    v.scores = {0, 0, 0, -10, -10, -10, -10, -1, -2, -2, -5, 0, 0};
    v.types = {TokenType::Unknown, TokenType::Control, TokenType::Control, TokenType::Normal,
               TokenType::Normal,  TokenType::Normal,  TokenType::Normal,  TokenType::Normal,
               TokenType::Normal,  TokenType::Normal,  TokenType::Normal,  TokenType::Byte,
               TokenType::Control};
    v.bos = 1;
    v.eos = 2;
    v.unk = 0;
    v.addBos = true;
    return v;
}

// Token ids of each text under Google's SentencePiece library with the ref models' own .model
// file (tools/spm_encode.py): the independent oracle for our SentencePiece tokenizer. Empty
// optional when the oracle cannot run; *why then says what is missing.
std::optional<std::vector<Ids>> sentencePieceIds(const std::vector<std::string>& texts, QString* why)
{
    const auto model = test::sharedFile("models/tenfold-ref-tokenizer.model");
    if (!std::filesystem::exists(model)) {
        *why = test::missingMessage(model);
        return std::nullopt;
    }
    QTemporaryDir dir;
    const QString input = dir.filePath("texts.json");
    {
        QJsonArray arr;
        for (const auto& t : texts)
            arr.append(QString::fromStdString(t));
        QFile f(input);
        if (!f.open(QIODevice::WriteOnly))
            return std::nullopt;
        f.write(QJsonDocument(arr).toJson(QJsonDocument::Compact));
    }
    const auto r = test::runProcess(test::systemPython(),
                                    {test::sourceFile("tools/spm_encode.py"),
                                     QString::fromStdString(model.string()), input});
    if (!r.ok()) {
        *why = "SentencePiece oracle (tools/spm_encode.py, Debian's python3-sentencepiece) failed: " +
               r.describe();
        return std::nullopt;
    }
    std::vector<Ids> out;
    for (const auto& row : QJsonDocument::fromJson(r.out).array()) {
        Ids ids;
        for (const auto& v : row.toArray())
            ids.push_back(int32_t(v.toInt()));
        out.push_back(std::move(ids));
    }
    if (out.size() != texts.size()) {
        *why = "SentencePiece oracle returned " + QString::number(out.size()) + " rows for " +
               QString::number(texts.size()) + " texts";
        return std::nullopt;
    }
    return out;
}

#define REQUIRE_SPM_ORACLE(var, texts)                                                             \
    QString var##Why;                                                                              \
    const auto var = sentencePieceIds(texts, &var##Why);                                           \
    if (!var)                                                                                      \
        QSKIP(qPrintable(var##Why));

} // namespace

class TokenizerTest : public QObject {
    Q_OBJECT

    std::shared_ptr<GGUFFile> refFile_;
    std::unique_ptr<Tokenizer> ref_;

    const Tokenizer* refTokenizer()
    {
        if (!ref_) {
            const auto path = test::sharedFile("models/tenfold-ref-main-f16.gguf");
            if (!std::filesystem::exists(path))
                return nullptr;
            refFile_ = GGUFFile::open(path);
            ref_ = Tokenizer::fromGGUF(*refFile_);
        }
        return ref_.get();
    }

private slots:
    void refVocabMetadata()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-main-f16.gguf"));
        const Tokenizer* tok = refTokenizer();
        QCOMPARE(tok->modelName(), std::string("llama"));
        QCOMPARE(tok->vocabSize(), 8192);
        QCOMPARE(tok->bos(), 1);
        QCOMPARE(tok->eos(), 2);
        QCOMPARE(tok->unknown(), 0);
        QVERIFY(tok->addBos());
        QVERIFY(!tok->addEos());
        QCOMPARE(tok->tokenType(0), TokenType::Unknown);
        QCOMPARE(tok->tokenType(1), TokenType::Control);
        QCOMPARE(tok->piece(3), std::string("<0x00>"));
        QVERIFY(tok->isEndOfGeneration(2));
        QVERIFY(!tok->isEndOfGeneration(845));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, tok->tokenBytes(8192));
    }

    // Strings with spaces, newlines, digits, punctuation, non-ASCII and byte fallback, against
    // SentencePiece itself. The ids written next to them are what SentencePiece 0.1.97 gives, kept
    // as a readable record; the test compares with the library's live output.
    void refKnownIds_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("ids");
        QTest::newRow("hello") << "Hello world" << "5919 8117 845";
        QTest::newRow("sentence") << "The jury said it was a fine day."
                                  << "350 5514 621 335 345 261 2399 922 8135";
        QTest::newRow("non-ascii") << QString::fromUtf8("na\u00efve caf\u00e9 \u2014 \u6771\u4eac")
                                   << "301 8116 198 178 309 1775 8128 198 172 8113 229 131 151 "
                                      "8113 233 160 180 231 189 175";
        QTest::newRow("spaces") << "  two  spaces" << "4087 715 8113 607 4529";
        QTest::newRow("newlines") << "line one\nline two\n" << "1677 470 13 2188 715 13";
        QTest::newRow("digits") << "It's 1962, isn't it?"
                                << "513 8139 8120 8113 8147 8162 8181 8166 8134 2326 8139 8115 "
                                   "335 8168";
        QTest::newRow("markup") << "Hi</s> <b>x</b>\ttab" << "";
        QTest::newRow("emoji") << QString::fromUtf8("ok \U0001F999 \u00a0nbsp") << "";
    }
    void refKnownIds()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-main-f16.gguf"));
        QFETCH(QString, text);
        QFETCH(QString, ids);
        const std::string utf8 = text.toStdString();
        REQUIRE_SPM_ORACLE(oracle, std::vector<std::string>{utf8});
        if (!ids.isEmpty())
            QCOMPARE(idsText(oracle->front()), ids); // the record above is still true
        const Tokenizer* tok = refTokenizer();
        const Ids got = tok->encode(utf8, false);
        QCOMPARE(idsText(got), idsText(oracle->front()));
        Ids withBos = tok->encode(utf8, true);
        QCOMPARE(withBos.front(), 1);
        withBos.erase(withBos.begin());
        QCOMPARE(withBos, got);
        QCOMPARE(tok->decode(tok->encode(utf8, true)), utf8);
    }

    // Every line of valid.txt encoded on its own, against SentencePiece.
    void refValidTextMatchesReference()
    {
        const auto path = test::sharedFile("text/valid.txt");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-main-f16.gguf"));
        const Tokenizer* tok = refTokenizer();
        const auto lines = splitLines(readAll(path));
        QVERIFY(lines.size() > 1000);
        REQUIRE_SPM_ORACLE(oracle, lines);
        size_t tokens = 0;
        for (size_t i = 0; i < lines.size(); ++i) {
            const Ids got = tok->encode(lines[i], false);
            tokens += got.size();
            if (got != (*oracle)[i])
                QFAIL(qPrintable(QString("line %1 differs from SentencePiece\n text: %2\n got:  %3\n want: %4")
                                     .arg(i + 1)
                                     .arg(QString::fromStdString(lines[i]), idsText(got),
                                          idsText((*oracle)[i]))));
        }
        qInfo("%zu lines, %zu tokens equal to SentencePiece's", lines.size(), tokens);
    }

    // Perplexity runs tokenize the whole file at once: it must be fast and lossless.
    void refValidTextWholeFile()
    {
        const auto path = test::sharedFile("text/valid.txt");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-main-f16.gguf"));
        const Tokenizer* tok = refTokenizer();
        const std::string text = readAll(path);
        QElapsedTimer timer;
        timer.start();
        const Ids ids = tok->encode(text, true);
        const qint64 ms = timer.elapsed();
        qInfo("encoded %zu bytes into %zu tokens in %lld ms", text.size(), ids.size(), ms);
        QVERIFY2(ms < 3000, "tokenizing valid.txt must take well under a few seconds");
        QVERIFY(ids.size() > text.size() / 8 && ids.size() < text.size());
        QCOMPARE(tok->decode(ids), text);
        // Every paragraph on its own, non-ASCII ones included.
        int nonAscii = 0;
        for (const std::string& line : splitLines(text)) {
            if (line.empty())
                continue;
            nonAscii += std::any_of(line.begin(), line.end(), [](char c) { return c & 0x80; });
            const std::string back = tok->decode(tok->encode(line, true));
            QVERIFY2(back == line, line.c_str());
        }
        QVERIFY(nonAscii > 0);
    }

    void streamingDecoderHoldsSplitCharacters()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-main-f16.gguf"));
        const Tokenizer* tok = refTokenizer();
        // From the Python reference: "▁ca" "f" <0xC3> <0xA9> "▁" <0xE6> <0x9D> <0xB1>.
        const std::string text = "caf\u00e9 \u6771";
        const Ids ids = tok->encode(text, false);
        QCOMPARE(idsText(ids), QString("1775 8128 198 172 8113 233 160 180"));
        StreamingDecoder dec(*tok);
        const std::vector<std::string> expected = {" ca", "f", "", "\u00e9", " ", "", "", "\u6771"};
        std::string joined;
        for (size_t i = 0; i < ids.size(); ++i) {
            const std::string piece = dec.push(ids[i]);
            QCOMPARE(piece, expected[i]);
            joined += piece;
        }
        QCOMPARE(dec.flush(), std::string());
        QCOMPARE(joined, " " + text); // the stream keeps the prefix space

        // A character cut short: flush turns it into one U+FFFD.
        StreamingDecoder cut(*tok);
        QCOMPARE(cut.push(233), std::string());
        QCOMPARE(cut.push(160), std::string());
        QCOMPARE(cut.flush(), std::string("\xEF\xBF\xBD"));
        // A continuation byte with no lead can never complete: replaced at once.
        StreamingDecoder stray(*tok);
        QCOMPARE(stray.push(172), std::string("\xEF\xBF\xBD"));
        // A lead byte followed by plain text: the lead is replaced, the text kept.
        StreamingDecoder broken(*tok);
        QCOMPARE(broken.push(198), std::string());
        QCOMPARE(broken.push(8128), std::string("\xEF\xBF\xBD" "f"));
        // Control tokens render empty unless asked for.
        StreamingDecoder plain(*tok), special(*tok, true);
        QCOMPARE(plain.push(2), std::string());
        QCOMPARE(special.push(2), std::string("</s>"));
    }

    // Byte-level BPE splits the llama emoji (F0 9F A6 99) across tokens (ids from the gpt-2
    // vocab test vectors); every push must hand out only whole characters.
    void streamingDecoderByteLevelBpe()
    {
        const auto path = test::sharedFile("vocab/ggml-vocab-gpt-2.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto file = GGUFFile::open(path);
        auto tok = Tokenizer::fromGGUF(*file);
        const std::string text = " this is \U0001F999.cpp";
        const Ids ids = tok->encode(text, false);
        QCOMPARE(idsText(ids), QString("428 318 12520 99 247 13 20322"));
        StreamingDecoder dec(*tok);
        std::vector<std::string> pieces;
        for (int32_t id : ids)
            pieces.push_back(dec.push(id));
        QCOMPARE(dec.flush(), std::string());
        const std::vector<std::string> expected = {" this", " is", " ", "", "\U0001F999", ".", "cpp"};
        QCOMPARE(pieces, expected);
        QCOMPARE(tok->decode(ids), text);
    }

    // Random text: valid UTF-8 round-trips exactly through both kinds of tokenizer. Arbitrary
    // bytes (invalid UTF-8): byte-level BPE first turns each malformed byte into U+FFFD, as
    // llama.cpp does; SentencePiece must still produce valid ids (its symbols follow lead bytes,
    // so a malformed lead can swallow an escaped space and the text is not given back exactly,
    // in llama.cpp too).
    void randomTextRoundTrip()
    {
        const auto spmPath = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto bpePath = test::sharedFile("vocab/ggml-vocab-gpt-2.gguf");
        TENFOLD_REQUIRE_SHARED(spmPath);
        TENFOLD_REQUIRE_SHARED(bpePath);
        const Tokenizer* spm = refTokenizer();
        auto bpeFile = GGUFFile::open(bpePath);
        auto bpe = Tokenizer::fromGGUF(*bpeFile);
        uint32_t state = 12345;
        const auto next = [&] { return state = state * 1664525u + 1013904223u; };
        const uint32_t samples[] = {' ', '\n', '\t', 'e', 'Z', '7', '.', 0xE9, 0x3B1, 0x2014,
                                    0x6771, 0xAC00, 0x1F999, 0x2581, 0xA0, 0x3000};
        for (int round = 0; round < 300; ++round) {
            std::string text;
            for (uint32_t n = next() % 30; n > 0; --n) {
                const uint32_t r = next() >> 16;
                uint32_t cp = r % 3 ? 'a' + r % 26 : samples[r % std::size(samples)];
                if (cp == 0x2581)
                    cp = 0x2582; // a literal U+2581 is the space mark and decodes as a space
                unicode::appendUtf8(text, cp);
            }
            QCOMPARE(spm->decode(spm->encode(text, true)), text);
            QCOMPARE(bpe->decode(bpe->encode(text, true)), text);

            std::string bytes(next() % 40, '\0');
            for (char& c : bytes) {
                const uint32_t r = next() >> 24;
                c = char(r < 96 ? 'a' + r % 26 : r < 128 ? ' ' : r); // mostly text, some high bytes
            }
            std::string lossy;
            for (uint32_t cp : unicode::decodeUtf8Lossy(bytes))
                unicode::appendUtf8(lossy, cp);
            QCOMPARE(bpe->decode(bpe->encode(bytes, true)), lossy);
            for (int32_t id : spm->encode(bytes, true))
                QVERIFY(id >= 0 && id < spm->vocabSize());
        }
    }

    void specialTokensAndBosEos()
    {
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-main-f16.gguf"));
        const Tokenizer* tok = refTokenizer();
        // As plain text "</s>" is characters (Python reference: ▁Hi <0x3C> / s <0x3E>).
        QCOMPARE(idsText(tok->encode("Hi</s>", false, false)), QString("6499 63 8186 8120 65"));
        // With parseSpecial it is EOS; text after a special token gets the prefix space again,
        // as llama.cpp does.
        QCOMPARE(idsText(tok->encode("Hi</s>", false, true)), QString("6499 2"));
        Ids expected = {1};
        for (int32_t id : tok->encode("Hello", false))
            expected.push_back(id);
        QCOMPARE(tok->encode("<s>Hello", false, true), expected);
        QCOMPARE(idsText(tok->encode("Hello", false)), QString("5919 8117"));
        // add_bos only when addSpecial; add_eos is off in this vocab.
        QCOMPARE(tok->encode("", true), Ids{1});
        QCOMPARE(tok->encode("", false), Ids{});
        QCOMPARE(tok->decode({1, 5919, 8117, 2}, true), std::string("<s>Hello</s>"));
        QCOMPARE(tok->decode({1, 5919, 8117, 2}), std::string("Hello"));
        QCOMPARE(tok->decode(tok->encode("<s>Hi</s>", false, true), true), std::string("<s>Hi</s>"));
    }

    void spmFromVectors()
    {
        // "abc" -> ▁ a b c. Best pair ▁a (-1) -> [▁a][b][c]; then bc (-2) -> [▁a][bc]; ▁abc and
        // abc+... are not pieces.
        auto tok = Tokenizer::fromVocab(tinySpmVocab());
        QCOMPARE(idsText(tok->encode("abc", false)), QString("7 9"));
        // Without a prefix space: ab and bc tie at -2, the leftmost wins: [ab][c] -> abc (-5).
        TokenizerVocab noPrefix = tinySpmVocab();
        noPrefix.addSpacePrefix = false;
        auto tok2 = Tokenizer::fromVocab(noPrefix);
        QCOMPARE(idsText(tok2->encode("abc", false)), QString("10"));
        // 'd' is the byte token <0x64>; 'e' has neither piece nor byte token -> <unk>.
        QCOMPARE(idsText(tok2->encode("de", false)), QString("11 0"));
        QCOMPARE(tok2->decode({11, 10}), std::string("dabc"));
        // BOS and EOS.
        TokenizerVocab both = tinySpmVocab();
        both.addEos = true;
        auto tok3 = Tokenizer::fromVocab(both);
        QCOMPARE(idsText(tok3->encode("a", true)), QString("1 7 2"));
        QCOMPARE(idsText(tok3->encode("a", false)), QString("7"));
        // Control token text only with parseSpecial.
        QCOMPARE(idsText(tok2->encode("a<|user|>b", false, true)), QString("4 12 5"));
        QVERIFY(!tok2->encode("a<|user|>b", false, false).empty());
        QVERIFY(tok2->encode("a<|user|>b", false, false) != (Ids{4, 12, 5}));
        QCOMPARE(tok2->decode({4, 12, 5}), std::string("ab"));
        QCOMPARE(tok2->decode({4, 12, 5}, true), std::string("a<|user|>b"));
    }

    void bpeFromVectors()
    {
        // Pieces are in GPT-2's byte-mapped form: U+0120 'Ġ' is the space byte.
        TokenizerVocab v;
        v.model = "gpt2";
        v.pre = "gpt-2";
        v.pieces = {"<|endoftext|>", "a", "c", "ab", "abc", "\u0120", "b", "\u0120a"};
        v.types.assign(v.pieces.size(), TokenType::Normal);
        v.types[0] = TokenType::Control;
        v.merges = {"a b", "\u0120 a"};
        v.bos = v.eos = 0;
        // Words "abc" and " abc". "abc": a b c -> (a b, rank 0) -> [ab][c].
        // " abc": Ġ a b c -> "a b" (rank 0) beats "Ġ a" (rank 1) -> [Ġ][ab][c].
        auto gpt2 = Tokenizer::fromVocab(v);
        QCOMPARE(idsText(gpt2->encode("abc abc", false)), QString("3 2 5 3 2"));
        QCOMPARE(gpt2->decode({3, 2, 5, 3, 2}), std::string("abc abc"));
        // Llama 3 takes a word that is a whole piece as it is, without merging.
        v.pre = "llama-bpe";
        auto llama3 = Tokenizer::fromVocab(v);
        QCOMPARE(idsText(llama3->encode("abc abc", false)), QString("4 5 3 2"));
        // add_bos for BPE, and the control token with parseSpecial.
        v.addBos = true;
        auto withBos = Tokenizer::fromVocab(v);
        QCOMPARE(idsText(withBos->encode("ab<|endoftext|>", true, true)), QString("0 3 0"));
        QCOMPARE(withBos->decode({0, 3, 0}), std::string("ab"));
        QCOMPARE(withBos->decode({0, 3, 0}, true), std::string("<|endoftext|>ab<|endoftext|>"));
    }

    void userDefinedTokensAlwaysSplit()
    {
        // llama.cpp splits user-defined tokens out of plain text even without parseSpecial.
        TokenizerVocab v = tinySpmVocab();
        v.types[12] = TokenType::UserDefined;
        v.addSpacePrefix = false;
        auto tok = Tokenizer::fromVocab(v);
        QCOMPARE(idsText(tok->encode("a<|user|>b", false, false)), QString("4 12 5"));
        QCOMPARE(tok->decode({4, 12, 5}), std::string("a<|user|>b"));
    }

    void invalidVocabs()
    {
        TokenizerVocab badScores = tinySpmVocab();
        badScores.scores.pop_back();
        QVERIFY_THROWS_EXCEPTION(FormatError, Tokenizer::fromVocab(badScores));
        TokenizerVocab badId = tinySpmVocab();
        badId.eos = 99;
        QVERIFY_THROWS_EXCEPTION(FormatError, Tokenizer::fromVocab(badId));
        TokenizerVocab badModel = tinySpmVocab();
        badModel.model = "wordpiece";
        QVERIFY_THROWS_EXCEPTION(UnsupportedError, Tokenizer::fromVocab(badModel));
        TokenizerVocab badPre = tinySpmVocab();
        badPre.model = "gpt2";
        badPre.pre = "no-such-pre";
        try {
            Tokenizer::fromVocab(badPre);
            QFAIL("an unknown pre-tokenizer must be rejected");
        } catch (const UnsupportedError& e) {
            QVERIFY(std::string(e.what()).find("no-such-pre") != std::string::npos);
        }
        TokenizerVocab badMerge = tinySpmVocab();
        badMerge.model = "gpt2";
        badMerge.merges = {"ab"};
        QVERIFY_THROWS_EXCEPTION(FormatError, Tokenizer::fromVocab(badMerge));
    }

    // llama2.c's tokenizer.bin gives the same vocab that stories260K.gguf carries.
    void llama2cTokenizerMatchesGguf()
    {
        const auto bin = test::sharedFile("models/tok512.bin");
        const auto gguf = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(bin);
        TENFOLD_REQUIRE_SHARED(gguf);
        auto file = GGUFFile::open(gguf);
        auto fromGguf = Tokenizer::fromGGUF(*file);
        auto fromBin = Tokenizer::fromLlama2cFile(bin, 512);
        QCOMPARE(fromBin->vocabSize(), 512);
        QCOMPARE(fromGguf->vocabSize(), 512);
        for (int32_t id = 0; id < 512; ++id) {
            QCOMPARE(fromBin->piece(id), fromGguf->piece(id));
            QCOMPARE(fromBin->tokenType(id), fromGguf->tokenType(id));
            QCOMPARE(fromBin->vocab().scores[id], fromGguf->vocab().scores[id]);
        }
        QCOMPARE(fromBin->bos(), fromGguf->bos());
        QCOMPARE(fromBin->eos(), fromGguf->eos());
        const auto sample = test::sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(sample);
        {
            const std::string text = readAll(sample);
            const Ids ids = fromBin->encode(text, true);
            QCOMPARE(ids, fromGguf->encode(text, true));
            QCOMPARE(fromBin->decode(ids), text);
        }
        QVERIFY_THROWS_EXCEPTION(FormatError, Tokenizer::fromLlama2cFile(bin, 100000));
        QVERIFY_THROWS_EXCEPTION(IoError, Tokenizer::fromLlama2cFile(bin.string() + ".missing", 512));
    }

    // writeTokenizerMetadata -> GGUF bytes -> fromGGUF gives the same tokenizer back.
    void exportRoundTrip()
    {
        std::vector<std::unique_ptr<Tokenizer>> sources;
        sources.push_back(Tokenizer::fromVocab(tinySpmVocab()));
        std::vector<std::shared_ptr<GGUFFile>> keep;
        for (const char* rel : {"models/tenfold-ref-main-f16.gguf", "vocab/ggml-vocab-gpt-2.gguf"}) {
            const auto p = test::sharedFile(rel);
            TENFOLD_REQUIRE_SHARED(p);
            keep.push_back(GGUFFile::open(p));
            sources.push_back(Tokenizer::fromGGUF(*keep.back()));
        }
        const std::string probe = "Hello, world! It's 1962: na\u00efve caf\u00e9 \u6771\u4eac  \n";
        for (const auto& src : sources) {
            GGUFWriter writer;
            writer.set("general.architecture", GGUFValue::string("llama"));
            writeTokenizerMetadata(writer, *src);
            auto back = GGUFFile::fromBytes(writer.toBytes(), "exported");
            auto tok = Tokenizer::fromGGUF(*back);
            const TokenizerVocab& a = src->vocab();
            const TokenizerVocab& b = tok->vocab();
            QCOMPARE(b.model, a.model);
            QCOMPARE(b.pre, a.pre);
            QCOMPARE(b.pieces, a.pieces);
            QCOMPARE(b.scores, a.scores);
            QCOMPARE(b.types, a.types);
            QCOMPARE(b.merges, a.merges);
            QCOMPARE(b.bos, a.bos);
            QCOMPARE(b.eos, a.eos);
            QCOMPARE(b.unk, a.unk);
            QCOMPARE(b.addBos, a.addBos);
            QCOMPARE(b.addEos, a.addEos);
            QCOMPARE(tok->encode(probe, true), src->encode(probe, true));
        }
    }

    void missingVocabInGguf()
    {
        GGUFWriter writer;
        writer.set("general.architecture", GGUFValue::string("llama"));
        auto file = GGUFFile::fromBytes(writer.toBytes(), "novocab");
        QVERIFY_THROWS_EXCEPTION(FormatError, Tokenizer::fromGGUF(*file));
        writer.set("tokenizer.ggml.model", GGUFValue::string("llama"));
        writer.set("tokenizer.ggml.tokens", GGUFValue::string("not an array"));
        auto file2 = GGUFFile::fromBytes(writer.toBytes(), "badtokens");
        QVERIFY_THROWS_EXCEPTION(FormatError, Tokenizer::fromGGUF(*file2));
    }
};

QTEST_GUILESS_MAIN(TokenizerTest)
#include "tst_tokenizer.moc"
