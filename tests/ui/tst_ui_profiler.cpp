// The Profiler page with the real engine on ref-main: a model loaded with per-op timing streams
// samples while the chat replies (the ops table covers every layer the GGUF file declares, the
// stacked chart and the figures show), the memory bandwidth is measured, a profile is recorded to
// tenfold.db and two recordings are compared; with the switch off nothing is timed or sent.
#include "gui_test_support.h"

#include "chat/chat_page.h"
#include "chat/composer.h"
#include "chat/conversation_settings_panel.h"
#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/main_window.h"
#include "gguf/gguf_file.h"
#include "profile/process_sampler.h"
#include "profiler/profiler_page.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QAbstractBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>

#include <set>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

ProfilerPage* profilerPage(Application& app)
{
    return qobject_cast<ProfilerPage*>(app.window().page(QStringLiteral("profiler")));
}

bool reply(Application& app, const QString& text)
{
    auto* chat = qobject_cast<ChatPage*>(app.window().page(QStringLiteral("chat")));
    chat->settingsPanel()->maxTokensBox()->setValue(48);
    chat->settingsPanel()->seedBox()->setValue(7);
    QSignalSpy finished(chat, &ChatPage::replyFinished);
    chat->composer()->setPlainText(text);
    QTest::keyClick(chat->composer(), Qt::Key_Return);
    return finished.wait(60000);
}

std::unique_ptr<Application> launchRefMain(const QString& dir, bool profiling)
{
    presetSettings(dir, [&](AppSettings& s) { s.setProfiling(profiling); });
    auto app = launch(dir, refMain());
    app->window().show();
    if (!waitUntil([&] { return app->context().host().isLoaded(); }, 60000))
        return nullptr;
    return app;
}

} // namespace

class TestUiProfiler : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-main-f16.gguf")); }

    void liveProfileRecordAndCompare()
    {
        QTemporaryDir dir;
        auto app = launchRefMain(dir.path(), true);
        QVERIFY(app);
        QVERIFY(app->context().host().loadedModel()->profiled);
        ProfilerPage* page = profilerPage(*app);
        QVERIFY(page);
        app->window().showPage(QStringLiteral("profiler"));
        QVERIFY(page->profilingBox()->isChecked());

        // The roofline's yardstick (a smaller buffer than the page's 1 GiB, to stay quick).
        QSignalSpy measured(page, &ProfilerPage::bandwidthMeasured);
        page->measureBandwidth(128ull << 20);
        QVERIFY(measured.wait(30000));
        QVERIFY(measured.first().at(0).toDouble() > 0);

        QSignalSpy sampled(page, &ProfilerPage::sampleShown);
        QVERIFY(reply(*app, QStringLiteral("The jury said that")));
        QVERIFY(sampled.count() > 0 || sampled.wait(5000));
        QVERIFY(page->replyProfile().passes() > 0);

        // Every layer the file declares appears in the table, and real ops with time in them.
        const auto file = GGUFFile::open(sharedFile("models/tenfold-ref-main-f16.gguf"));
        const int layers = int(file->getInt("llama.block_count").value_or(0));
        QVERIFY(layers > 0);
        std::set<int> seen;
        double sum = 0;
        for (const auto& c : page->replyProfile().cells()) {
            if (c.layer >= 0)
                seen.insert(c.layer);
            sum += c.microseconds;
        }
        QCOMPARE(int(seen.size()), layers);
        QCOMPARE(*seen.rbegin(), layers - 1);
        QVERIFY(sum > 0);
        QCOMPARE(page->opsTable()->rowCount(), int(page->replyProfile().cells().size()));
        // The stacked chart: one bar per layer plus the ops outside the stack.
        const auto series = page->opsChart()->chart()->series();
        QCOMPARE(series.size(), 1);
        auto* bars = qobject_cast<QAbstractBarSeries*>(series.first());
        QVERIFY(bars && !bars->barSets().isEmpty());
        QCOMPARE(bars->barSets().first()->count(), layers + 1);
        const QString figures = page->figuresLabel()->text();
        QVERIFY2(figures.contains(QStringLiteral("GFLOP/s")) && figures.contains(QStringLiteral("of the machine's measured")),
                 qPrintable(figures));

        // CPU use per core: one bar per core of this machine.
        QTRY_VERIFY_WITH_TIMEOUT(!page->coresChart()->chart()->series().isEmpty(), 5000);
        auto* cores = qobject_cast<QAbstractBarSeries*>(page->coresChart()->chart()->series().first());
        QCOMPARE(cores->barSets().first()->count(), int(profile::readCoreTimes().size()));

        // Record, reply again, record again, compare the two.
        QSignalSpy recorded(page, &ProfilerPage::profileRecorded);
        page->recordProfile(QStringLiteral("first"));
        QVERIFY(recorded.wait(10000));
        const qint64 first = recorded.first().at(0).toLongLong();
        const auto stored = storeAfterPendingWrites(*app).profile(first);
        QVERIFY(stored);
        QCOMPARE(stored->passes, page->replyProfile().passes());
        QCOMPARE(stored->ops.size(), page->replyProfile().cells().size());
        QCOMPARE(stored->quantization, std::string("F16"));
        QVERIFY(stored->bandwidthShare > 0);
        QVERIFY(reply(*app, QStringLiteral("Once upon a time")));
        QSignalSpy compared(page, &ProfilerPage::comparisonShown);
        page->recordProfile(QStringLiteral("second"));
        QVERIFY(recorded.wait(10000));
        QVERIFY(compared.count() > 0 || compared.wait(10000));
        QCOMPARE(page->firstRecording()->count(), 2);
        QStringList figuresShown;
        for (int r = 0; r < page->compareTable()->rowCount(); ++r)
            figuresShown << page->compareTable()->item(r, 0)->text();
        QVERIFY2(figuresShown.contains(QStringLiteral("Decode tokens/s")), qPrintable(figuresShown.join(", ")));
        QVERIFY2(figuresShown.filter(QStringLiteral("µs per pass")).size() >= 3, qPrintable(figuresShown.join(", ")));
    }

    // The page's benchmark on ref-main: the live samples carry its request, the figures are the
    // token counts over the measured times (recomputed here from the result), the usage ledger
    // gets one "benchmark" row with those counts and times; a too-long run is refused before it
    // starts; Cancel stops a long run with partial figures, and the chat works afterwards.
    void benchmarkRunsLiveAndIsRecorded()
    {
        QTemporaryDir dir;
        auto app = launchRefMain(dir.path(), true);
        QVERIFY(app);
        ProfilerPage* page = profilerPage(*app);
        app->window().showPage(QStringLiteral("profiler"));
        QVERIFY(page->benchButton()->isEnabled());
        QVERIFY(!page->benchCancelButton()->isEnabled());

        page->benchPromptTokens()->setValue(500);
        page->benchGenTokens()->setValue(100);
        QTest::mouseClick(page->benchButton(), Qt::LeftButton);
        QVERIFY2(page->benchSummary()->text().contains(QStringLiteral("do not fit")), qPrintable(page->benchSummary()->text()));
        QCOMPARE(app->context().host().state(), ModelHost::State::Ready);

        page->benchPromptTokens()->setValue(64);
        page->benchGenTokens()->setValue(48);
        QSignalSpy samples(&app->context().host(), &ModelHost::profileSampled);
        QSignalSpy done(page, &ProfilerPage::benchmarkDone);
        QTest::mouseClick(page->benchButton(), Qt::LeftButton);
        QVERIFY(page->benchCancelButton()->isEnabled());
        QVERIFY(!page->benchButton()->isEnabled());
        QVERIFY(done.wait(60000));
        QCOMPARE(done.first().at(0).toBool(), true);
        const BenchResult r = page->lastBenchmark();
        QCOMPARE(r.promptTokens, 64);
        QCOMPARE(r.genTokens, 48);
        QVERIFY(!r.cancelled && r.promptMs > 0 && r.decodeMs > 0 && r.energyJoules > 0);
        QVERIFY(samples.count() >= 1);
        const auto last = samples.last().at(0).value<ProfileSample>();
        QCOMPARE(last.requestId, r.id);
        QVERIFY(last.final);
        QCOMPARE(last.generatedTokens, 48);
        QVERIFY(!last.timings.empty()); // loaded with timing: the last decode pass's ops
        QVERIFY(page->replyProfile().passes() > 0);
        const QString summary = page->benchSummary()->text();
        const QString pp = QLocale().toString(64 * 1000.0 / r.promptMs, 'f', 1);
        const QString tg = QLocale().toString(48 * 1000.0 / r.decodeMs, 'f', 1);
        QVERIFY2(summary.contains(QStringLiteral("pp64: %1 tokens/s").arg(pp)), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("tg48: %1 tokens/s").arg(tg)), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("GFLOP/s")) && summary.contains(QStringLiteral("GB/s")), qPrintable(summary));
        QVERIFY(page->benchButton()->isEnabled());
        QCOMPARE(app->context().host().state(), ModelHost::State::Ready);

        // The ledger row, read back from tenfold.db.
        const auto rows = storeAfterPendingWrites(*app).usage();
        std::vector<LedgerEntry> bench;
        for (const LedgerEntry& e : rows)
            if (e.source == "benchmark")
                bench.push_back(e);
        QCOMPARE(int(bench.size()), 1);
        QCOMPARE(bench[0].client, std::string("pp64 tg48"));
        QCOMPARE(bench[0].prefillTokens, 64);
        QCOMPARE(bench[0].decodeTokens, 48);
        QCOMPARE(bench[0].prefillMs, r.promptMs);
        QCOMPARE(bench[0].decodeMs, r.decodeMs);
        QCOMPARE(bench[0].quantization, std::string("F16"));
        QVERIFY(!bench[0].modelHash.empty());

        // Cancel a long run: partial figures, then the chat still answers.
        page->benchPromptTokens()->setValue(16);
        page->benchGenTokens()->setValue(480);
        QSignalSpy cancelled(page, &ProfilerPage::benchmarkDone);
        QSignalSpy started(&app->context().host(), &ModelHost::profileSampled);
        page->runBenchmark();
        QVERIFY(started.wait(30000));
        QTest::mouseClick(page->benchCancelButton(), Qt::LeftButton);
        QVERIFY(cancelled.wait(30000));
        QVERIFY(page->lastBenchmark().cancelled);
        QVERIFY(page->lastBenchmark().genTokens < 480);
        QVERIFY2(page->benchSummary()->text().startsWith(QStringLiteral("Cancelled")), qPrintable(page->benchSummary()->text()));
        QVERIFY(reply(*app, QStringLiteral("Once upon a time")));
    }

    // On the Vulkan backend (lavapipe in CI) the samples carry the device's memory heaps and the
    // page lists them; the GPU test suite checks the figures against the file's tensor bytes.
    void gpuHeapsShowOnTheDevice()
    {
        QTemporaryDir dir;
        presetSettings(dir.path(), [](AppSettings& s) {
            s.setProfiling(true);
            s.setBackend(BackendChoice::Vulkan);
        });
        auto app = launch(dir.path(), stories260K());
        app->window().show();
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));
        if (!app->context().host().loadedModel()->deviceTag.startsWith(QStringLiteral("vulkan:")))
            QSKIP("no Vulkan device here");
        ProfilerPage* page = profilerPage(*app);
        app->window().showPage(QStringLiteral("profiler"));
        page->benchPromptTokens()->setValue(16);
        page->benchGenTokens()->setValue(16);
        QSignalSpy done(page, &ProfilerPage::benchmarkDone);
        page->runBenchmark();
        QVERIFY(done.wait(60000));
        QCOMPARE(done.first().at(0).toBool(), true);
        const QString figures = page->figuresLabel()->text();
        QVERIFY2(figures.contains(QStringLiteral("GPU heap 0")), qPrintable(figures));
    }

    // Off: the context times nothing and the session sends no samples.
    void nothingWhenOff()
    {
        QTemporaryDir dir;
        auto app = launchRefMain(dir.path(), false);
        QVERIFY(app);
        QVERIFY(!app->context().host().loadedModel()->profiled);
        ProfilerPage* page = profilerPage(*app);
        QSignalSpy samples(&app->context().host(), &ModelHost::profileSampled);
        QVERIFY(reply(*app, QStringLiteral("The jury said that")));
        QTest::qWait(100);
        QCOMPARE(samples.count(), 0);
        QCOMPARE(page->samplesSeen(), 0);
        // Switching it on offers the reload that applies it.
        page->profilingBox()->setChecked(true);
        QVERIFY(page->reloadButton()->isEnabled());
        QVERIFY(app->context().settings().profiling());
    }
};

QTEST_MAIN(TestUiProfiler)
#include "tst_ui_profiler.moc"
