// Real models in and out of the training engine (engine/train/model_io.h):
// - stories260K (F32) and ref-main (F16) loaded as trainable parameters give the logits of the
//   runtime's F64 reference forward (runtime/reference_forward.h, written from the model's
//   definition independently of the training ops);
// - a student of some of the layers, saved as GGUF and loaded back through the ordinary model
//   loader, runs in the reference forward with the logits the training model computes for it;
// - save -> reload gives the same parameters (F32 exactly; F16 to F16 rounding), the same
//   tokenizer and metadata, and the shape keys of the student;
// - layer selection helpers and bad input.
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/reference_forward.h"
#include "tokenizer/tokenizer.h"
#include "train/model.h"
#include "train/model_io.h"
#include "common/shared_data.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::train;

namespace {

// max |train - reference| over every logit, relative to the largest reference logit
double compareWithReference(const TrainableModel& m, std::shared_ptr<const Model> model,
                            const std::vector<int32_t>& tokens)
{
    TinyLlama<float> net(m.config);
    net.useFastPaths(true);
    const float* logits = net.forward(m.params.data(), tokens.data(), int(tokens.size()));
    ReferenceForward ref(std::move(model));
    const std::vector<double> expect = ref.decode(tokens);
    double maxErr = 0, scale = 1e-6;
    for (size_t i = 0; i < expect.size(); ++i) {
        maxErr = std::max(maxErr, std::fabs(double(logits[i]) - expect[i]));
        scale = std::max(scale, std::fabs(expect[i]));
    }
    return maxErr / scale;
}

} // namespace

class TestTrainIo : public QObject {
    Q_OBJECT
private slots:
    void stories260K_logitsMatchReferenceForward()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = Model::loadGGUF(path);
        const TrainableModel m = loadTrainable(model);
        QCOMPARE(m.config.nLayers, 5);
        QCOMPARE(m.config.dim, 64);
        QCOMPARE(m.config.nHeadKv, 4);
        const auto tokens = model->tokenizer().encode("Once upon a time, there was a little dog named Max.", true);
        QVERIFY(tokens.size() > 8);
        const double e = compareWithReference(m, model, tokens);
        qInfo("stories260K: max logit error %.3g (relative to the largest logit)", e);
        QVERIFY2(e < 1e-4, qPrintable(QString::number(e)));
    }

    void refMainF16_logitsMatchReferenceForward()
    {
        const auto path = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = Model::loadGGUF(path);
        const TrainableModel m = loadTrainable(model);
        QCOMPARE(m.config.nLayers, 8);
        QVERIFY(m.config.tiedEmbeddings == model->hparams().tiedOutput);
        const auto tokens = model->tokenizer().encode("The committee said that the report was", true);
        const double e = compareWithReference(m, model, tokens);
        qInfo("ref-main (F16 weights): max logit error %.3g", e);
        QVERIFY2(e < 1e-4, qPrintable(QString::number(e)));
    }

    void layerSubset_savedAndReloaded_runsInTheRuntime()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = Model::loadGGUF(path);
        const TrainableModel student = loadTrainable(model, {0, 2, 4});
        QCOMPARE(student.config.nLayers, 3);
        QTemporaryDir dir;
        const std::string out = dir.filePath("student.gguf").toStdString();
        saveTrainableGGUF(out, *model, student.config, student.params);
        auto reloaded = Model::loadGGUF(out);
        QCOMPARE(reloaded->hparams().nLayer, 3);
        QCOMPARE(reloaded->hparams().nEmbd, 64);
        // layer 1 of the student is layer 2 of the source, bit for bit
        const TrainableModel back = loadTrainable(reloaded);
        QVERIFY(back.params == student.params);
        const ParamLayout sl(student.config);
        const TrainableModel full = loadTrainable(model);
        const ParamLayout fl(full.config);
        const ParamView& a = sl.find("blk.1.ffn_down.weight");
        const ParamView& b = fl.find("blk.2.ffn_down.weight");
        QVERIFY(std::equal(student.params.begin() + a.offset, student.params.begin() + a.offset + a.size(),
                           full.params.begin() + b.offset));
        // same tokenizer and metadata
        const std::string text = "Lily went to the park.";
        QVERIFY(reloaded->tokenizer().encode(text, true) == model->tokenizer().encode(text, true));
        QVERIFY(reloaded->gguf()->find("general.name") != nullptr);
        // and the runtime's reference forward of the saved file agrees with the training model
        const auto tokens = model->tokenizer().encode("Once upon a time there was a cat.", true);
        const double e = compareWithReference(student, reloaded, tokens);
        QVERIFY2(e < 1e-4, qPrintable(QString::number(e)));
    }

    void saveF16_roundsEveryMatrixToF16()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = Model::loadGGUF(path);
        const TrainableModel m = loadTrainable(model);
        QTemporaryDir dir;
        const std::string out = dir.filePath("f16.gguf").toStdString();
        saveTrainableGGUF(out, *model, m.config, m.params, GGMLType::F16);
        auto reloaded = Model::loadGGUF(out);
        QVERIFY(reloaded->layers()[0].wq.type == GGMLType::F16);
        QVERIFY(reloaded->layers()[0].attnNorm.type == GGMLType::F32);
        const TrainableModel back = loadTrainable(reloaded);
        QCOMPARE(back.params.size(), m.params.size());
        double maxRel = 0;
        for (size_t i = 0; i < m.params.size(); ++i)
            if (std::fabs(m.params[i]) > 1e-4) // F16 normals: relative error <= 2^-11
                maxRel = std::max(maxRel, double(std::fabs(back.params[i] - m.params[i]) / std::fabs(m.params[i])));
        QVERIFY2(maxRel <= 0x1p-11 * 1.0001, qPrintable(QString::number(maxRel)));
    }

    void layerSelection()
    {
        QVERIFY((spacedLayers(8, 4) == std::vector<int>{0, 2, 4, 6}));
        QVERIFY((spacedLayers(8, 3) == std::vector<int>{0, 2, 5}));
        QVERIFY((spacedLayers(5, 5) == std::vector<int>{0, 1, 2, 3, 4}));
        QVERIFY((firstLayers(8, 2) == std::vector<int>{0, 1}));
        QVERIFY((parseLayerList("0,2,5,7", 8) == std::vector<int>{0, 2, 5, 7}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, spacedLayers(8, 9));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, spacedLayers(8, 0));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parseLayerList("0,8", 8));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parseLayerList("3,2", 8));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parseLayerList("1,x", 8));
        try {
            parseLayerList("0,9", 8);
            QFAIL("no error");
        } catch (const InvalidArgument& e) {
            QVERIFY2(QString(e.what()).contains("layer 9 does not exist"), e.what());
        }
    }

    void badInput()
    {
        const auto path = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto model = Model::loadGGUF(path);
        const TrainableModel m = loadTrainable(model);
        QTemporaryDir dir;
        const std::string out = dir.filePath("x.gguf").toStdString();
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, saveTrainableGGUF(out, *model, m.config, m.params, GGMLType::Q4_0));
        std::vector<float> shorter(m.params.begin(), m.params.end() - 1);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, saveTrainableGGUF(out, *model, m.config, shorter));
        QVERIFY(!QFile::exists(QString::fromStdString(out)));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, loadTrainable(model, {0, 7}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, loadTrainable(model, {2, 1}));
    }
};

QTEST_GUILESS_MAIN(TestTrainIo)
#include "tst_train_io.moc"
