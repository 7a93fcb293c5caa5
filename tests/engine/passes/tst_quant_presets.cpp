// The quantization presets (engine/passes/quant_presets.h) against the tool they come from: the
// reference engine's llama-quantize (../shared/peer/llama.cpp-b4748), run here on every test run
// with each preset's name and no --pure. Every tensor of our file must have the type llama-quantize
// chose and the same bytes (round to nearest follows the reference's rounding exactly), and
// general.file_type must agree. Two models: ref-main (tied output, 384-wide rows, 3 query heads per
// key head, 8 layers) and a synthetic one with 256-wide rows, an untied output, 4 query heads per
// key head and 16 layers, so that the K-quants are kept and every layer-dependent rule (first
// sixteenth, first eighth, "more bits" layers, the first attn_v tensors) picks a different set.
#include "common/oracle.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "passes/quant_presets.h"
#include "passes/quantize_recipe.h"
#include "passes/synth_model.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

using namespace tenfold;

class TestQuantPresets : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    std::filesystem::path model(bool synthetic)
    {
        if (!synthetic)
            return test::sharedFile("models/tenfold-ref-main-f16.gguf");
        const std::filesystem::path p = dir_.filePath("deep-f16.gguf").toStdString();
        if (!std::filesystem::exists(p)) {
            // name, dim, layers, heads, kv heads, ffn, vocab, ctx, rope base, rms eps, tied
            const SynthShape shape{"deep", 256, 16, 8, 2, 256, 512, 128, 10000.0f, 1e-5f, false};
            SynthOptions so;
            so.type = GGMLType::F16;
            so.seed = 11;
            synthesizeModel(shape, p, so);
        }
        return p;
    }

private slots:
    void matchesLlamaQuantize_data()
    {
        QTest::addColumn<bool>("synthetic");
        QTest::addColumn<QString>("preset");
        for (const QuantPreset& p : quantPresets()) {
            QTest::newRow(qPrintable(QString("ref-main %1").arg(p.name))) << false << QString(p.name);
            QTest::newRow(qPrintable(QString("deep %1").arg(p.name))) << true << QString(p.name);
        }
    }

    void matchesLlamaQuantize()
    {
        QFETCH(bool, synthetic);
        QFETCH(QString, preset);
        const auto tool = test::peerTool("llama-quantize");
        TENFOLD_REQUIRE_SHARED(test::sharedFile("models/tenfold-ref-main-f16.gguf"));
        TENFOLD_REQUIRE_PEER(tool);
        QVERIFY(dir_.isValid());
        const std::filesystem::path src = model(synthetic);
        const QString tag = (synthetic ? "deep-" : "main-") + preset;
        const QString peerOut = dir_.filePath("peer-" + tag + ".gguf");
        const auto run = test::runProcess(QString::fromStdString(tool.string()),
                                          {QString::fromStdString(src.string()), peerOut, preset, "2"});
        QVERIFY2(run.ok(), qPrintable("llama-quantize " + preset + ": " + run.describe()));

        QuantizeRecipe recipe;
        recipe.input = src;
        recipe.output = dir_.filePath("ours-" + tag + ".gguf").toStdString();
        recipe.preset = preset.toStdString();
        recipe.method = QuantMethod::Rtn;
        recipe.nThreads = 2;
        runQuantizeRecipe(recipe, {}, nullptr, nullptr);

        const auto peer = GGUFFile::open(peerOut.toStdString());
        const auto ours = GGUFFile::open(recipe.output);
        QCOMPARE(ours->getInt("general.file_type"), peer->getInt("general.file_type"));
        QCOMPARE(ours->tensors().size(), peer->tensors().size());
        QStringList wrongType, wrongBytes;
        std::map<std::string, int> mix;
        for (const GGUFTensorInfo& p : peer->tensors()) {
            const GGUFTensorInfo* d = ours->findTensor(p.name);
            QVERIFY2(d, p.name.c_str());
            ++mix[typeName(p.type)];
            if (d->type != p.type)
                wrongType << QString("%1: ours %2, llama-quantize %3")
                                 .arg(QString::fromStdString(p.name), typeName(d->type), typeName(p.type));
            else if (d->nbytes != p.nbytes || std::memcmp(d->data, p.data, size_t(p.nbytes)) != 0)
                wrongBytes << QString::fromStdString(p.name);
        }
        QString line;
        for (const auto& [t, n] : mix)
            line += QString(" %1 x %2").arg(n).arg(QString::fromStdString(t));
        qInfo("%s:%s", qPrintable(tag), qPrintable(line));
        QVERIFY2(wrongType.isEmpty(), qPrintable("tensor types differ: " + wrongType.join("; ")));
        QVERIFY2(wrongBytes.isEmpty(), qPrintable("tensor bytes differ: " + wrongBytes.join(", ")));
    }

    void presetNamesAndBadInput()
    {
        QVERIFY(findQuantPreset("q4_k_m") && std::string(findQuantPreset("q4_k_m")->name) == "Q4_K_M");
        QVERIFY(!findQuantPreset("Q4_K"));
        QVERIFY(!findQuantPreset("Q4_K_MX"));
        QuantizeRecipe recipe;
        recipe.input = model(true);
        recipe.output = dir_.filePath("never.gguf").toStdString();
        recipe.method = QuantMethod::Rtn;
        recipe.preset = "Q4_K_X";
        const std::span<const int32_t> none;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, runQuantizeRecipe(recipe, none, nullptr, nullptr));
        recipe.preset = "Q4_K_M";
        recipe.targetBytes = 5'000'000;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, runQuantizeRecipe(recipe, none, nullptr, nullptr));
        QVERIFY(!std::filesystem::exists(recipe.output));
    }
};

QTEST_APPLESS_MAIN(TestQuantPresets)
#include "tst_quant_presets.moc"
