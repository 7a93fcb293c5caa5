// The budgeted type mix: the knapsack against exhaustive search, each measured sensitivity against
// the KL divergence of a file quantized in that one tensor (through quantizeModel, a file and
// klDivergence: another path), and the plan against the uniform type of the same size.
#include "common/shared_data.h"

#include "core/error.h"
#include "model/model.h"
#include "passes/quant_budget.h"
#include "runtime/cpu_backend.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <random>

using namespace tenfold;

namespace {

std::vector<int32_t> textTokens(const Model& m, const char* relative)
{
    std::ifstream in(test::sharedFile(relative), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return m.tokenizer().encode(text, true);
}

double kld(const std::filesystem::path& base, const std::filesystem::path& test, const std::vector<int32_t>& tokens,
           int nCtx, int chunks)
{
    auto backend = createCpuBackend(0);
    ContextParams cp;
    cp.nCtx = nCtx;
    auto b = Model::loadGGUF(base), t = Model::loadGGUF(test);
    auto bc = backend->createContext(b, cp), tc = backend->createContext(t, cp);
    PerplexityOptions po;
    po.nCtx = nCtx;
    po.maxChunks = chunks;
    po.bos = b->tokenizer().bos();
    return klDivergence(*bc, *tc, tokens, po).meanKld;
}

} // namespace

class TestQuantBudget : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::filesystem::path tmp(const char* name) const { return std::filesystem::path(dir_.path().toStdString()) / name; }

private slots:
    void knapsackMatchesExhaustiveSearch()
    {
        std::mt19937 rng(5);
        std::uniform_int_distribution<int> kib(1, 40);
        std::uniform_real_distribution<double> loss(0.0, 1.0);
        for (int trial = 0; trial < 50; ++trial) {
            std::vector<TensorSensitivity> ts(7);
            for (size_t i = 0; i < ts.size(); ++i) {
                ts[i].name = "t" + std::to_string(i);
                for (int k = 0; k < 3; ++k) // whole KiB: the solver's rounding is then exact
                    ts[i].options.push_back({GGMLType::Q4_0, uint64_t(kib(rng)) * 1024, loss(rng)});
            }
            const uint64_t budget = uint64_t(std::uniform_int_distribution<int>(30, 200)(rng)) * 1024;
            double bestLoss = std::numeric_limits<double>::infinity();
            std::vector<size_t> idx(ts.size(), 0);
            for (int code = 0; code < 2187; ++code) { // 3^7
                int c = code;
                uint64_t bytes = 0;
                double l = 0;
                for (size_t i = 0; i < ts.size(); ++i, c /= 3) {
                    bytes += ts[i].options[size_t(c % 3)].bytes;
                    l += ts[i].options[size_t(c % 3)].kld;
                }
                if (bytes <= budget)
                    bestLoss = std::min(bestLoss, l);
            }
            const std::vector<size_t> choice = solveBudget(ts, budget);
            if (!std::isfinite(bestLoss)) {
                QVERIFY(choice.empty());
                continue;
            }
            QCOMPARE(choice.size(), ts.size());
            uint64_t bytes = 0;
            double l = 0;
            for (size_t i = 0; i < ts.size(); ++i) {
                bytes += ts[i].options[choice[i]].bytes;
                l += ts[i].options[choice[i]].kld;
            }
            QVERIFY(bytes <= budget);
            QVERIFY2(std::fabs(l - bestLoss) < 1e-12, qPrintable(QStringLiteral("trial %1: %2 vs %3").arg(trial).arg(l).arg(bestLoss)));
        }
    }

    void sensitivityIsTheSingleTensorKld()
    {
        const auto path = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto m = Model::loadGGUF(path);
        const auto calib = textTokens(*m, "text/calibration.txt");
        BudgetOptions o;
        o.targetBytes = 200'000'000; // no constraint: this test reads the measurements
        o.candidates = {GGMLType::Q4_0};
        o.nCtx = 128;
        o.chunks = 2;
        const BudgetPlan plan = planForSize(path, calib, o);
        QCOMPARE(plan.sensitivities.size(), size_t(1 + 7 * m->hparams().nLayer)); // tied output: token_embd once
        for (const TensorSensitivity& s : plan.sensitivities) {
            QCOMPARE(s.options.size(), size_t(2)); // Q4_0 and the source F16
            QCOMPARE(plan.types.at(s.name), GGMLType::F16); // unconstrained: no loss at all
        }
        for (const char* name : {"blk.2.ffn_down.weight", "token_embd.weight"}) {
            const auto& s = *std::find_if(plan.sensitivities.begin(), plan.sensitivities.end(),
                                          [&](const TensorSensitivity& t) { return t.name == name; });
            const auto& q4 = *std::find_if(s.options.begin(), s.options.end(),
                                           [](const auto& op) { return op.type == GGMLType::Q4_0; });
            QuantizeOptions qo;
            qo.target = GGMLType::F16;
            qo.tensorTypes = {{name, GGMLType::Q4_0}};
            const auto file = tmp("one.gguf");
            quantizeModel(path, file, qo);
            const double direct = kld(path, file, calib, 128, 2);
            qInfo("%s at Q4_0: measured %.6g, direct %.6g", name, q4.kld, direct);
            QVERIFY(q4.kld > 0);
            QVERIFY2(std::fabs(q4.kld - direct) <= 1e-3 * direct + 1e-7,
                     qPrintable(QStringLiteral("%1: %2 vs %3").arg(name).arg(q4.kld).arg(direct)));
        }
    }

    void planFitsAndBeatsTheUniformType()
    {
        const auto path = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        TENFOLD_REQUIRE_SHARED(test::sharedFile("text/valid.txt"));
        auto m = Model::loadGGUF(path);
        QuantizeOptions uniform;
        uniform.target = GGMLType::Q4_0;
        quantizeModel(path, tmp("uniform.gguf"), uniform);
        const uint64_t target = std::filesystem::file_size(tmp("uniform.gguf"));

        BudgetOptions o;
        o.targetBytes = target;
        o.candidates = {GGMLType::Q4_0, GGMLType::Q5_0, GGMLType::Q8_0, GGMLType::Q4_K, GGMLType::Q6_K};
        o.keepSourceType = false;
        o.nCtx = 256;
        o.chunks = 2;
        BudgetPlan plan;
        try {
            plan = planForSize(path, textTokens(*m, "text/calibration.txt"), o);
        } catch (const Error& e) {
            QFAIL(e.what());
        }
        QVERIFY(plan.predictedFileBytes <= target);
        QuantizeOptions mixed;
        mixed.target = GGMLType::Q4_0;
        mixed.tensorTypes = plan.types;
        quantizeModel(path, tmp("mixed.gguf"), mixed);
        QVERIFY2(std::filesystem::file_size(tmp("mixed.gguf")) <= target,
                 qPrintable(QStringLiteral("%1 > %2").arg(std::filesystem::file_size(tmp("mixed.gguf"))).arg(target)));
        // Held-out text: the evaluation file, not the calibration text the plan was made on.
        const auto valid = textTokens(*m, "text/valid.txt");
        const double kUniform = kld(path, tmp("uniform.gguf"), valid, 256, 8);
        const double kMixed = kld(path, tmp("mixed.gguf"), valid, 256, 8);
        qInfo("same size (%llu bytes): uniform Q4_0 KLD %.6f, budgeted mix %.6f", (unsigned long long)target,
              kUniform, kMixed);
        QVERIFY(kMixed < kUniform);
    }

    void targetBelowTheSmallestIsAClearError()
    {
        const auto path = test::sharedFile("models/tenfold-ref-main-f16.gguf");
        TENFOLD_REQUIRE_SHARED(path);
        auto m = Model::loadGGUF(path);
        BudgetOptions o;
        o.targetBytes = 1'000'000;
        try {
            planForSize(path, textTokens(*m, "text/calibration.txt"), o);
            QFAIL("an impossible target was accepted");
        } catch (const InvalidArgument& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("smallest file")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestQuantBudget)
#include "tst_quant_budget.moc"
