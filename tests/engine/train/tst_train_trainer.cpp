// The training loop (engine/train/trainer.h) and its data (engine/train/data.h):
// - token windows: training windows are runs of the stream inside the training part, drawn
//   from the seed; validation windows tile the held-out tail; a text shorter than a window is
//   refused with the number of tokens it needs;
// - distillation on stories260K (teacher: the model; student: 3 of its 5 layers): a few steps
//   lower the KL divergence to the teacher, measured independently of the trainer (reference
//   klDistillForward on fixed windows, before and after);
// - resume: a run cancelled after 3 steps (checkpoint written) and resumed in a new Trainer ends
//   with the same parameters and the same later losses, bit for bit, as an uninterrupted run;
// - the pause flag holds the loop until it is cleared;
// - a mask keeps its zeros at exactly 0; NaN loss stops with TrainingDiverged and the last
//   checkpoint on disk is the last good step; bad options are refused.
#include "core/error.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/model_io.h"
#include "train/ops.h"
#include "train/trainer.h"
#include "common/shared_data.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

using namespace tenfold;
using namespace tenfold::train;

namespace {

std::vector<int32_t> ramp(int n)
{
    std::vector<int32_t> v(n);
    for (int i = 0; i < n; ++i)
        v[i] = i;
    return v;
}

struct Stories {
    std::shared_ptr<Model> model;
    std::string text;
};

Stories stories()
{
    Stories s;
    const auto m = test::sharedFile("models/stories260K.gguf");
    const auto t = test::sharedFile("text/tinystories_sample.txt");
    if (!std::filesystem::exists(m) || !std::filesystem::exists(t))
        return s;
    s.model = Model::loadGGUF(m);
    std::ifstream in(t);
    std::stringstream ss;
    ss << in.rdbuf();
    s.text = ss.str();
    return s;
}

TrainOptions smallOptions()
{
    TrainOptions o;
    o.steps = 6;
    o.batch = 2;
    o.lr = 2e-3;
    o.minLr = 2e-4;
    o.warmup = 2;
    o.evalEvery = 0;
    o.evalWindows = 2;
    o.threads = 2;
    o.seed = 42;
    return o;
}

} // namespace

class TestTrainTrainer : public QObject {
    Q_OBJECT
private slots:
    void windows_comeFromTheirParts()
    {
        // a stream 0..999 without BOS: every window is a run of consecutive numbers
        const TokenDataset d(ramp(1000), 16, 0.1, -1);
        QCOMPARE(d.trainTokens(), int64_t(900));
        QCOMPARE(d.validWindows(), 100 / 17);
        std::vector<int32_t> w(17), w2(17);
        uint64_t rng = 7, rng2 = 7;
        for (int i = 0; i < 200; ++i) {
            d.sampleTrain(rng, w.data());
            d.sampleTrain(rng2, w2.data());
            QVERIFY(w == w2); // same seed, same windows
            for (int j = 1; j < 17; ++j)
                QCOMPARE(w[j], w[j - 1] + 1);
            QVERIFY(w[0] >= 0 && w[16] < 900); // never touches the held-out tail
        }
        for (int i = 0; i < d.validWindows(); ++i) {
            d.validWindow(i, w.data());
            QCOMPARE(w[0], 900 + i * 17);
            QCOMPARE(w[16], 900 + i * 17 + 16);
        }
        // with a BOS, the first token of each window becomes BOS
        const TokenDataset b(ramp(1000), 16, 0.1, 1);
        b.sampleTrain(rng, w.data());
        QCOMPARE(w[0], 1);
    }

    void windows_shortTextIsRefused()
    {
        try {
            TokenDataset d(ramp(50), 32, 0.1, -1);
            QFAIL("no error");
        } catch (const InvalidArgument& e) {
            // one training and one validation window of 33 tokens
            QVERIFY2(QString(e.what()).contains("has 50 tokens") && QString(e.what()).contains("at least 66"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, TokenDataset(ramp(100), 1, 0.1, -1));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, TokenDataset(ramp(100), 8, 0.9, -1));
        TokenDataset ok(ramp(33), 32, 0.0, -1); // exactly one window, no validation
        QCOMPARE(ok.validWindows(), 0);
    }

    void distillation_lowersKlToTeacher()
    {
        const Stories s = stories();
        if (!s.model)
            QSKIP("shared test data missing: models/stories260K.gguf or text/tinystories_sample.txt");
        const TrainableModel teacher = loadTrainable(s.model);
        const TrainableModel student = loadTrainable(s.model, {0, 2, 4});
        const TokenDataset data = TokenDataset::fromText(s.model->tokenizer(), s.text, 32, 0.2);
        // the oracle: reference KL on the validation windows, computed here, not by the trainer
        auto meanKl = [&](const std::vector<float>& sp) {
            TinyLlama<float> t(teacher.config), st(student.config);
            std::vector<int32_t> w(33);
            double total = 0;
            const int V = teacher.config.vocab;
            for (int i = 0; i < data.validWindows(); ++i) {
                data.validWindow(i, w.data());
                const float* tl = t.forward(teacher.params.data(), w.data(), 32);
                std::vector<float> tcopy(tl, tl + 32 * V);
                const float* sl = st.forward(sp.data(), w.data(), 32);
                std::vector<float> pT(32 * V), pS(32 * V);
                total += klDistillForward(pT.data(), pS.data(), tcopy.data(), sl, 32, V, 1.0f);
            }
            return total / data.validWindows();
        };
        const double before = meanKl(student.params);
        TrainOptions o = smallOptions();
        o.steps = 25;
        o.alpha = 1.0;
        o.temperature = 1.0;
        o.lr = 3e-3;
        Trainer tr(student.config, student.params, data, o);
        tr.setTeacher(teacher.config, teacher.params);
        const TrainResult r = tr.run();
        const double after = meanKl(tr.params());
        qInfo("KL(teacher || student) on held-out windows: %.4f -> %.4f", before, after);
        QCOMPARE(r.steps, int64_t(25));
        QVERIFY2(after < 0.8 * before, qPrintable(QString("%1 -> %2").arg(before).arg(after)));
    }

    void resume_continuesTheSameRun()
    {
        const Stories s = stories();
        if (!s.model)
            QSKIP("shared test data missing: models/stories260K.gguf or text/tinystories_sample.txt");
        const TrainableModel teacher = loadTrainable(s.model);
        const TrainableModel student = loadTrainable(s.model, {0, 3});
        const TokenDataset data = TokenDataset::fromText(s.model->tokenizer(), s.text, 24, 0.1);
        TrainOptions o = smallOptions();
        // uninterrupted
        Trainer a(student.config, student.params, data, o);
        a.setTeacher(teacher.config, teacher.params);
        const TrainResult ra = a.run();
        // cancelled after step 3 (a checkpoint is written on cancel), then resumed
        QTemporaryDir dir;
        std::atomic<bool> cancel{false};
        TrainOptions ob = o;
        ob.checkpointDir = dir.path().toStdString();
        ob.checkpointEvery = 100;
        ob.cancel = &cancel;
        ob.threads = 1; // the thread count does not change the bits
        {
            Trainer b(student.config, student.params, data, ob);
            b.setTeacher(teacher.config, teacher.params);
            QVERIFY(!b.resume()); // nothing there yet
            QVERIFY_THROWS_EXCEPTION(Cancelled, b.run([&](const StepReport& r) {
                if (r.step == 3)
                    cancel = true;
            }));
        }
        cancel = false;
        Trainer c(student.config, student.params, data, ob);
        c.setTeacher(teacher.config, teacher.params);
        QVERIFY(c.resume());
        QCOMPARE(c.stepsDone(), int64_t(3));
        const TrainResult rc = c.run();
        QCOMPARE(rc.losses.size(), size_t(3));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(rc.losses[i], ra.losses[3 + i]); // exact
        QVERIFY(std::memcmp(a.params().data(), c.params().data(), a.params().size() * 4) == 0);
        QCOMPARE(rc.valLoss, ra.valLoss);
        // a run with other settings refuses the checkpoint
        TrainOptions od = ob;
        od.batch = 3;
        Trainer d(student.config, student.params, data, od);
        d.setTeacher(teacher.config, teacher.params);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, d.resume());
    }

    void pause_holdsTheLoopBetweenSteps()
    {
        const Stories s = stories();
        if (!s.model)
            QSKIP("shared test data missing: models/stories260K.gguf or text/tinystories_sample.txt");
        const TrainableModel m = loadTrainable(s.model, {0});
        const TokenDataset data = TokenDataset::fromText(s.model->tokenizer(), s.text, 16, 0.1);
        std::atomic<bool> pause{true}, cancel{false};
        std::atomic<int64_t> seen{0};
        TrainOptions o = smallOptions();
        o.steps = 4;
        o.pause = &pause;
        o.cancel = &cancel;
        Trainer t(m.config, m.params, data, o);
        std::thread worker([&] { t.run([&](const StepReport& r) { seen = r.step; }); });
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        QCOMPARE(seen.load(), int64_t(0)); // paused before the first step
        pause = false;
        worker.join();
        QCOMPARE(seen.load(), int64_t(4));
        QCOMPARE(t.stepsDone(), int64_t(4));
    }

    void mask_keepsPrunedWeightsAtZero()
    {
        const Stories s = stories();
        if (!s.model)
            QSKIP("shared test data missing: models/stories260K.gguf or text/tinystories_sample.txt");
        const TrainableModel m = loadTrainable(s.model);
        const TokenDataset data = TokenDataset::fromText(s.model->tokenizer(), s.text, 24, 0.1);
        TrainOptions o = smallOptions();
        o.weightDecay = 0.1;
        o.mask.assign(m.params.size(), 1);
        for (size_t i = 0; i < o.mask.size(); i += 3)
            o.mask[i] = 0; // every third weight pruned
        Trainer t(m.config, m.params, data, o);
        t.run();
        size_t changed = 0;
        for (size_t i = 0; i < m.params.size(); ++i) {
            if (!o.mask[i])
                QVERIFY(t.params()[i] == 0.0f && !std::signbit(t.params()[i]));
            else
                changed += t.params()[i] != m.params[i];
        }
        QVERIFY(changed > m.params.size() / 2);
    }

    void nanLoss_stopsAndKeepsLastGoodCheckpoint()
    {
        const Stories s = stories();
        if (!s.model)
            QSKIP("shared test data missing: models/stories260K.gguf or text/tinystories_sample.txt");
        const TrainableModel m = loadTrainable(s.model);
        const TokenDataset data = TokenDataset::fromText(s.model->tokenizer(), s.text, 24, 0.1);
        // an absurd learning rate without clipping blows the weights up within a few steps
        TrainOptions o = smallOptions();
        o.steps = 50;
        o.lr = 1e30;
        o.minLr = 1e30;
        o.warmup = 0;
        o.clip = 0;
        QTemporaryDir dir;
        o.checkpointDir = dir.path().toStdString();
        o.checkpointEvery = 1;
        Trainer t(m.config, m.params, data, o);
        int64_t diverged = 0;
        try {
            t.run();
            QFAIL("no divergence");
        } catch (const TrainingDiverged& e) {
            diverged = e.step();
            QVERIFY2(QString(e.what()).contains("diverged at step"), e.what());
        }
        QVERIFY(diverged >= 2);
        const CheckpointState ck = readCheckpoint(Trainer::checkpointPath(o.checkpointDir));
        QCOMPARE(ck.step, diverged - 1);
        QVERIFY(std::memcmp(ck.params.data(), t.params().data(), ck.params.size() * 4) == 0);
    }

    void badOptions()
    {
        TrainConfig c;
        c.vocab = 40;
        c.dim = 8;
        c.nLayers = 1;
        c.nHead = 2;
        c.nHeadKv = 1;
        c.ffnDim = 12;
        const size_t n = ParamLayout(c).count();
        const TokenDataset data(std::vector<int32_t>(200, 3), 8, 0.1, -1);
        std::vector<float> p(n, 0.01f);
        auto make = [&](TrainOptions o) { Trainer t(c, p, data, o); };
        TrainOptions o = smallOptions();
        o.alpha = 1.5;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, make(o));
        o = smallOptions();
        o.batch = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, make(o));
        o = smallOptions();
        o.mask.assign(n - 1, 1);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, make(o));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, Trainer(c, std::vector<float>(n + 1), data, smallOptions()));
        Trainer t(c, p, data, smallOptions());
        TrainConfig other = c;
        other.vocab = 41;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, t.setTeacher(other, std::vector<float>(ParamLayout(other).count())));
        // a damaged checkpoint is a FormatError, not garbage parameters
        QTemporaryDir dir;
        const auto ck = std::filesystem::path(dir.path().toStdString()) / "bad.tftrain";
        CheckpointState st;
        st.params.assign(10, 1.0f);
        st.m.assign(10, 0.0f);
        st.v.assign(10, 0.0f);
        writeCheckpoint(ck, st);
        QCOMPARE(readCheckpoint(ck).params, st.params);
        {
            std::fstream f(ck, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(40);
            f.put('\x7f');
        }
        QVERIFY_THROWS_EXCEPTION(FormatError, readCheckpoint(ck));
    }
};

QTEST_GUILESS_MAIN(TestTrainTrainer)
#include "tst_train_trainer.moc"
