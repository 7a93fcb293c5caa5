// Pruning recovery (engine/train/recovery.h) on stories260K: Wanda 50%, then a few steps of
// recovery fine-tuning. Oracles independent of the trainer: the weights read back from the
// rewritten GGUF (every pruned zero still exactly 0, the rest moved), and the inference
// runtime's perplexity (runtime/perplexity.h) on the recovery text before and after.
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "passes/prune.h"
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"
#include "tensor/half.h"
#include "tokenizer/tokenizer.h"
#include "train/recovery.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace tenfold;

namespace {

std::string readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The projections' values as float, straight from the file (F32 or F16 only).
std::vector<std::vector<float>> projections(const Model& m)
{
    std::vector<std::vector<float>> out;
    for (const LayerWeights& l : m.layers())
        for (const WeightTensor* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffnGate, &l.ffnUp, &l.ffnDown}) {
            std::vector<float> v(size_t(w->ne0 * w->ne1));
            for (int64_t r = 0; r < w->ne1; ++r)
                for (int64_t c = 0; c < w->ne0; ++c) {
                    const size_t i = size_t(r * w->ne0 + c);
                    if (w->type == GGMLType::F32)
                        std::memcpy(&v[i], w->row(r) + c * 4, 4);
                    else if (w->type == GGMLType::F16) {
                        uint16_t h;
                        std::memcpy(&h, w->row(r) + c * 2, 2);
                        v[i] = fp16ToFp32(h);
                    } else
                        throw UnsupportedError("test reads F32/F16 only");
                }
            out.push_back(std::move(v));
        }
    return out;
}

double runtimePerplexity(const std::filesystem::path& path, const std::string& text, int nCtx)
{
    std::shared_ptr<const Model> model = Model::loadGGUF(path);
    const std::vector<int32_t> tokens = model->tokenizer().encode(text, true);
    auto backend = createCpuBackend(2);
    ContextParams cp;
    cp.nCtx = nCtx;
    auto ctx = backend->createContext(model, cp);
    PerplexityOptions po;
    po.nCtx = nCtx;
    po.firstScored = 1; // every prediction after BOS, as the trainer's loss
    po.bos = model->tokenizer().bos();
    return perplexity(*ctx, tokens, po).ppl;
}

} // namespace

class TstRecovery : public QObject {
    Q_OBJECT
private slots:
    void wandaThenRecoveryKeepsZerosAndLowersLoss()
    {
        const auto modelPath = test::sharedFile("models/stories260K.gguf");
        const auto textPath = test::sharedFile("text/tinystories_sample.txt");
        TENFOLD_REQUIRE_SHARED(modelPath);
        TENFOLD_REQUIRE_SHARED(textPath);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path pruned = dir.filePath("pruned.gguf").toStdString();
        const std::string text = readAll(textPath);
        const std::string trainText = text.substr(0, text.size() * 3 / 4);
        const std::string heldOut = text.substr(text.size() * 3 / 4);

        std::shared_ptr<const Model> src = Model::loadGGUF(modelPath);
        PruneOptions po;
        po.method = PruneMethod::Wanda;
        po.sparsity = 0.5;
        po.calibCtx = 64;
        po.calibWindows = 0;
        po.nThreads = 2;
        pruneModel(modelPath, pruned, src->tokenizer().encode(trainText, true), po);

        const std::vector<std::vector<float>> before = projections(*Model::loadGGUF(pruned));
        size_t zeros = 0, total = 0;
        for (const auto& t : before)
            for (float v : t) {
                zeros += v == 0.0f;
                ++total;
            }
        QVERIFY2(zeros >= total * 49 / 100, "Wanda 50% left too few zeros");
        const int nCtx = 64;
        const double trainPplBefore = runtimePerplexity(pruned, trainText, nCtx);
        const double heldPplBefore = runtimePerplexity(pruned, heldOut, nCtx);
        const GGMLType typeBefore = Model::loadGGUF(pruned)->layers()[0].wq.type;

        train::RecoveryOptions ro;
        ro.train.steps = 30;
        ro.train.batch = 4;
        ro.train.lr = 2e-3;
        ro.train.minLr = 2e-4;
        ro.train.warmup = 2;
        ro.train.threads = 2;
        ro.train.evalEvery = 0;
        ro.ctx = nCtx;
        ro.validFraction = 0.1;
        int stepsSeen = 0;
        const train::RecoveryReport rep =
            train::recoverPrunedModel(pruned, trainText, ro, [&](const train::StepReport&) { ++stepsSeen; });
        QCOMPARE(stepsSeen, 30);
        QCOMPARE(rep.maskedWeights, zeros);

        std::shared_ptr<const Model> after = Model::loadGGUF(pruned);
        QCOMPARE(int(after->layers()[0].wq.type), int(typeBefore));
        const std::vector<std::vector<float>> recovered = projections(*after);
        QCOMPARE(recovered.size(), before.size());
        size_t moved = 0, kept = 0;
        for (size_t t = 0; t < before.size(); ++t)
            for (size_t i = 0; i < before[t].size(); ++i) {
                if (before[t][i] == 0.0f) {
                    if (recovered[t][i] != 0.0f)
                        QFAIL(qPrintable(QString("tensor %1 element %2: pruned zero became %3")
                                             .arg(t).arg(i).arg(double(recovered[t][i]))));
                    ++kept;
                } else {
                    moved += recovered[t][i] != before[t][i];
                }
            }
        QCOMPARE(kept, zeros);
        QVERIFY2(moved > (total - zeros) / 2, "recovery left most surviving weights unchanged");

        const double trainPplAfter = runtimePerplexity(pruned, trainText, nCtx);
        const double heldPplAfter = runtimePerplexity(pruned, heldOut, nCtx);
        qInfo("runtime perplexity: recovery text %.3f -> %.3f, held-out %.3f -> %.3f; trainer's own "
              "validation ppl %.3f -> %.3f",
              trainPplBefore, trainPplAfter, heldPplBefore, heldPplAfter, rep.valPerplexityBefore,
              rep.valPerplexityAfter);
        QVERIFY2(trainPplAfter < trainPplBefore * 0.97, "recovery did not lower the loss on its text");
        QVERIFY2(heldPplAfter < heldPplBefore, "recovery did not lower the held-out perplexity");
    }

    void badInputIsTyped()
    {
        const auto modelPath = test::sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(modelPath);
        QTemporaryDir dir;
        const std::filesystem::path copy = dir.filePath("m.gguf").toStdString();
        std::filesystem::copy_file(modelPath, copy);
        train::RecoveryOptions ro;
        ro.ctx = 64;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, train::recoverPrunedModel(copy, "too short", ro));
        QVERIFY_THROWS_EXCEPTION(IoError, train::recoverPrunedModel(dir.filePath("none.gguf").toStdString(), "x", ro));
    }
};

QTEST_APPLESS_MAIN(TstRecovery)
#include "tst_recovery.moc"
