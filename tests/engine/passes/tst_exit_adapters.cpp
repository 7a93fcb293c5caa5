// Early-exit adapters (passes/exit_adapters.h). The fit is checked against an independent dense
// solution of the same ridge least-squares problem (Eigen's SVD on the explicit, augmented
// system); on held-out text the adapted exit must be closer to the full model (KL) than the raw
// one; a file carrying adapters must load them, and self-speculative decoding with them must
// still give exactly the plain greedy output.
#include "common/shared_data.h"
#include "core/error.h"
#include "model/model.h"
#include "passes/exit_adapters.h"
#include "runtime/cpu_backend.h"
#include "runtime/cpu_context.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

#include <Eigen/Dense>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <sstream>

using namespace tenfold;
using tenfold::test::sharedFile;

namespace {

std::string readText(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string greedyText(const std::shared_ptr<Model>& m, const char* prompt, int selfExit)
{
    auto cpu = createCpuBackend(2);
    auto ctx = cpu->createContext(m, {});
    GenerateOptions o;
    o.maxTokens = 64;
    o.sampling.temperature = 0;
    o.draft.selfExitLayer = selfExit;
    std::string text;
    generate(*ctx, *m, m->tokenizer().encode(prompt, true), o, [&](int32_t, std::string_view piece) {
        text += piece;
        return true;
    });
    return text;
}

} // namespace

class TestExitAdapters : public QObject {
    Q_OBJECT
    std::shared_ptr<Model> main_, stories_;
    QTemporaryDir dir_;

private slots:
    void initTestCase()
    {
        const auto m = sharedFile("models/tenfold-ref-main-f16.gguf");
        const auto s = sharedFile("models/stories260K.gguf");
        TENFOLD_REQUIRE_SHARED(m);
        TENFOLD_REQUIRE_SHARED(s);
        TENFOLD_REQUIRE_SHARED(sharedFile("text/calibration.txt"));
        TENFOLD_REQUIRE_SHARED(sharedFile("text/valid.txt"));
        main_ = Model::loadGGUF(m);
        stories_ = Model::loadGGUF(s);
    }

    // The normal-equations solve against a dense SVD least-squares solve of
    // [X 1; sqrt(lambda) I 0] theta = [Y; 0] on the same (unit-RMS) hidden states.
    void fitMatchesDenseLeastSquares()
    {
        const int E = stories_->hparams().nEmbd, k = 2;
        auto tokens = stories_->tokenizer().encode(readText(sharedFile("text/tinystories_sample.txt")), true);
        tokens.resize(300);
        ExitFitOptions o;
        o.layers = {k};
        o.window = 300;
        o.ridge = 1e-3;
        const std::vector<ExitFit> fit = fitExitAdapters(stories_, tokens, o);
        QCOMPARE(int(fit.size()), 1);

        auto backend = createCpuBackend(2);
        auto ctx = backend->createContext(stories_, {});
        auto* cpu = dynamic_cast<CpuContext*>(ctx.get());
        QVERIFY(cpu);
        const int layers[2] = {k, stories_->hparams().nLayer};
        std::vector<float> hidden;
        cpu->decodeCapture(tokens, layers, hidden);
        const int N = int(tokens.size());
        Eigen::MatrixXd X(N, E + 1), Y(N, E);
        for (int t = 0; t < N; ++t) {
            double sx = 0, sy = 0;
            for (int i = 0; i < E; ++i) {
                X(t, i) = hidden[size_t(t) * E + size_t(i)];
                Y(t, i) = hidden[size_t(N + t) * E + size_t(i)];
                sx += X(t, i) * X(t, i);
                sy += Y(t, i) * Y(t, i);
            }
            X.row(t).head(E) /= std::sqrt(sx / E);
            Y.row(t) /= std::sqrt(sy / E);
            X(t, E) = 1.0;
        }
        const double lambda = o.ridge * (X.leftCols(E).transpose() * X.leftCols(E)).diagonal().mean();
        Eigen::MatrixXd A = Eigen::MatrixXd::Zero(N + E, E + 1), B = Eigen::MatrixXd::Zero(N + E, E);
        A.topRows(N) = X;
        A.bottomLeftCorner(E, E) = std::sqrt(lambda) * Eigen::MatrixXd::Identity(E, E);
        B.topRows(N) = Y;
        const Eigen::MatrixXd theta = A.jacobiSvd(Eigen::ComputeThinU | Eigen::ComputeThinV).solve(B);
        double worst = 0, scale = 0;
        for (int o2 = 0; o2 < E; ++o2) {
            for (int i = 0; i < E; ++i) {
                worst = std::max(worst, std::fabs(theta(i, o2) - fit[0].weight[size_t(o2) * E + size_t(i)]));
                scale = std::max(scale, std::fabs(theta(i, o2)));
            }
            worst = std::max(worst, std::fabs(theta(E, o2) - fit[0].bias[size_t(o2)]));
        }
        QVERIFY2(worst < 1e-3 * std::max(1.0, scale), qPrintable(QString("%1 (scale %2)").arg(worst).arg(scale)));
    }

    void adaptedExitIsCloserOnHeldOutText()
    {
        auto calib = main_->tokenizer().encode(readText(sharedFile("text/calibration.txt")), true);
        calib.resize(std::min<size_t>(calib.size(), 6144));
        auto valid = main_->tokenizer().encode(readText(sharedFile("text/valid.txt")), true);
        valid.resize(std::min<size_t>(valid.size(), 1024));
        ExitFitOptions o;
        o.layers = {4};
        const auto fit = fitExitAdapters(main_, calib, o);
        const ExitQuality raw = evaluateExit(main_, valid, 4, nullptr);
        const ExitQuality adapted = evaluateExit(main_, valid, 4, &fit[0]);
        qInfo("layer 4 on valid.txt: KL %.4f -> %.4f, top-1 agreement %.1f%% -> %.1f%%", raw.meanKl, adapted.meanKl,
              100 * raw.top1Agreement, 100 * adapted.top1Agreement);
        QVERIFY(adapted.meanKl < raw.meanKl);
        QVERIFY(adapted.top1Agreement > raw.top1Agreement);

        // Written into a file, loaded back, used by self-speculative decoding: same greedy text.
        const auto path = std::filesystem::path(dir_.path().toStdString()) / "with-exits.gguf";
        writeModelWithExitAdapters(*main_, fit, 4, path);
        const auto withExits = Model::loadGGUF(path);
        QCOMPARE(int(withExits->exitAdapters().size()), 1);
        QVERIFY(withExits->exitAdapter(4) != nullptr);
        QVERIFY(withExits->exitAdapter(3) == nullptr);
        QCOMPARE(withExits->fingerprint(), withExits->fingerprint());
        const std::string plain = greedyText(main_, "The jury said that", 0);
        QCOMPARE(QString::fromStdString(greedyText(withExits, "The jury said that", 4)), QString::fromStdString(plain));
    }

    // Early exit that never exits runs every layer and gives the plain decode's logits exactly;
    // lower thresholds run fewer layers and move further from the full model.
    void earlyExitTradesQualityForLayers()
    {
        auto calib = main_->tokenizer().encode(readText(sharedFile("text/calibration.txt")), true);
        calib.resize(std::min<size_t>(calib.size(), 4096));
        ExitFitOptions o;
        o.layers = {2, 4, 6};
        const auto path = std::filesystem::path(dir_.path().toStdString()) / "early.gguf";
        writeModelWithExitAdapters(*main_, fitExitAdapters(main_, calib, o), 2, path);
        const std::shared_ptr<Model> m = Model::loadGGUF(path);
        auto cpu = createCpuBackend(2);
        auto a = cpu->createContext(m, {}), b = cpu->createContext(m, {});
        const auto prompt = m->tokenizer().encode("The history of the town began with a mill", true);
        std::vector<float> la, lb;
        const int exits[3] = {2, 4, 6};
        for (int32_t t : prompt) {
            const int32_t one[1] = {t};
            a->decode(one, false, la);
            QCOMPARE(b->decodeEarlyExit(t, exits, 1.0f + 1e-6f, lb), 8);
            QCOMPARE(la, lb);
        }
        auto valid = m->tokenizer().encode(readText(sharedFile("text/valid.txt")), true);
        valid.resize(160);
        double lastLayers = 0, lastKl = 1e9;
        for (float p : {0.2f, 0.6f, 0.95f}) {
            const EarlyExitQuality q = evaluateEarlyExit(m, valid, exits, p);
            qInfo("threshold %.2f: %.2f layers/token, KL %.4f, top-1 %.1f%%", double(p), q.averageLayers, q.meanKl,
                  100 * q.top1Agreement);
            QVERIFY(q.averageLayers >= lastLayers && q.averageLayers <= 8.0);
            QVERIFY(q.meanKl <= lastKl + 1e-9);
            lastLayers = q.averageLayers;
            lastKl = q.meanKl;
        }
        QVERIFY(lastLayers > 2.0);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, b->decodeEarlyExit(5, std::vector<int>{4, 2}, 0.5f, lb));
    }

    void badInputIsRefused()
    {
        ExitFitOptions o;
        o.layers = {2};
        const std::vector<int32_t> few(10, 5);
        try {
            fitExitAdapters(stories_, few, o);
            QFAIL("no error for 10 tokens");
        } catch (const InvalidArgument& e) {
            QVERIFY2(QString(e.what()).contains("at least"), e.what());
        }
        std::vector<int32_t> enough(200, 5);
        o.layers = {stories_->hparams().nLayer};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, fitExitAdapters(stories_, enough, o));
        o.layers = {};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, fitExitAdapters(stories_, enough, o));
    }
};

QTEST_GUILESS_MAIN(TestExitAdapters)
#include "tst_exit_adapters.moc"
