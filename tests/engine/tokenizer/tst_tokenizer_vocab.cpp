// Every vocab in shared/vocab against llama.cpp's test vectors: X.gguf.inp holds strings, each
// followed by "\n__ggml_vocab_test__\n"; line i of X.gguf.out holds the ids of string i (no BOS),
// each preceded by a space.
#include "common/shared_data.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

#include <QtTest>

#include <fstream>
#include <sstream>

using namespace tenfold;

namespace {

std::string readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string idsToLine(const std::vector<int32_t>& ids)
{
    std::string line;
    for (int32_t id : ids)
        line += " " + std::to_string(id);
    return line;
}

// Non-printable bytes escaped, so that a mismatch report shows exactly which string failed.
std::string printable(const std::string& s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20) out += "\\x" + QByteArray(1, char(c)).toHex().toStdString();
        else out += char(c);
    }
    return out;
}

} // namespace

class TokenizerVocabTest : public QObject {
    Q_OBJECT

private slots:
    void vectors_data()
    {
        QTest::addColumn<QString>("vocabPath");
        const auto dir = test::sharedFile("vocab");
        if (!std::filesystem::exists(dir)) {
            QTest::newRow("missing") << QString();
            return;
        }
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.path().extension() == ".gguf" &&
                std::filesystem::exists(entry.path().string() + ".inp") &&
                std::filesystem::exists(entry.path().string() + ".out"))
                files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        // The vocabularies shared/README.md promises: one gone missing is lost coverage, not a
        // shorter list.
        for (const char* want : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf",
                                 "ggml-vocab-gpt-2.gguf", "ggml-vocab-falcon.gguf",
                                 "ggml-vocab-starcoder.gguf", "ggml-vocab-deepseek-coder.gguf"})
            if (std::find(files.begin(), files.end(), dir / want) == files.end())
                QTest::newRow((std::string("missing ") + want).c_str()) << QString();
        for (const auto& f : files)
            QTest::newRow(f.filename().string().c_str()) << QString::fromStdString(f.string());
    }

    void vectors()
    {
        QFETCH(QString, vocabPath);
        if (vocabPath.isEmpty())
            QSKIP(qPrintable(test::missingMessage(test::sharedFile("vocab"))));
        const std::string path = vocabPath.toStdString();
        auto file = GGUFFile::open(path);
        auto tok = Tokenizer::fromGGUF(*file);

        const std::string inp = readAll(path + ".inp");
        const std::string sep = "\n__ggml_vocab_test__\n";
        std::vector<std::string> strings;
        size_t start = 0;
        for (size_t hit; (hit = inp.find(sep, start)) != std::string::npos; start = hit + sep.size())
            strings.push_back(inp.substr(start, hit - start));
        QCOMPARE(start, inp.size()); // the file ends with a separator

        std::vector<std::string> expected;
        std::istringstream out(readAll(path + ".out"));
        for (std::string line; std::getline(out, line);)
            expected.push_back(line);
        QCOMPARE(expected.size(), strings.size());
        QVERIFY(strings.size() >= 10);

        std::string report;
        int failures = 0;
        for (size_t i = 0; i < strings.size(); ++i) {
            const std::string got = idsToLine(tok->encode(strings[i], false, false));
            if (got != expected[i]) {
                ++failures;
                report += "\n  string " + std::to_string(i) + " \"" + printable(strings[i]) +
                          "\"\n    expected:" + expected[i] + "\n    actual:  " + got;
            }
        }
        QVERIFY2(failures == 0, qPrintable(QString::number(failures) + " mismatches in " +
                                           vocabPath + QString::fromStdString(report)));
    }

    // Decoding what was encoded gives the text back for every vector that is valid UTF-8
    // (byte-level BPE and byte-fallback SentencePiece are lossless).
    void roundTrip_data() { vectors_data(); }
    void roundTrip()
    {
        QFETCH(QString, vocabPath);
        if (vocabPath.isEmpty())
            QSKIP(qPrintable(test::missingMessage(test::sharedFile("vocab"))));
        const std::string path = vocabPath.toStdString();
        auto file = GGUFFile::open(path);
        auto tok = Tokenizer::fromGGUF(*file);
        const std::string inp = readAll(path + ".inp");
        const std::string sep = "\n__ggml_vocab_test__\n";
        size_t start = 0;
        int checked = 0;
        for (size_t hit; (hit = inp.find(sep, start)) != std::string::npos;
             start = hit + sep.size()) {
            const std::string s = inp.substr(start, hit - start);
            std::string decoded = tok->decode(tok->encode(s, true));
            QVERIFY2(decoded == s, qPrintable(QString::fromStdString(
                                       "\"" + printable(s) + "\" decoded as \"" +
                                       printable(decoded) + "\"")));
            ++checked;
        }
        QVERIFY(checked > 0);
    }
};

QTEST_GUILESS_MAIN(TokenizerVocabTest)
#include "tst_tokenizer_vocab.moc"
