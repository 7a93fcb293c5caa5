// Models page: library, table, details, memory estimate, load/unload/cancel, corrupt files.
#include "gui_test_support.h"

#include "core/app_context.h"
#include "core/main_window.h"
#include "gguf/gguf_file.h"
#include "models/model_details_dialog.h"
#include "models/model_library_model.h"
#include "models/models_page.h"
#include "session/model_facts.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableView>
#include <QTableWidget>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

ModelsPage* modelsPage(Application& app)
{
    return qobject_cast<ModelsPage*>(app.window().page(QStringLiteral("models")));
}

bool addAndWait(ModelsPage* page, const QStringList& files, QStringList* errors = nullptr)
{
    QSignalSpy updated(page, &ModelsPage::libraryUpdated);
    page->addFiles(files);
    if (!updated.wait(30000))
        return false;
    // The table is re-read from the store thread after the files were stored.
    const QStringList added = updated.at(0).at(0).toStringList();
    if (!waitUntil([&] {
            for (const QString& path : added)
                if (page->libraryModel()->rowOfPath(path) < 0)
                    return false;
            return true;
        }, 10000))
        return false;
    if (errors)
        *errors = updated.at(0).at(1).toStringList();
    return true;
}

QString cell(ModelsPage* page, int row, int column)
{
    return page->libraryModel()->index(row, column).data().toString();
}

} // namespace

class TestUiModels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        TENFOLD_REQUIRE_SHARED(sharedFile("models/tenfold-ref-main-f16.gguf"));
    }

    void libraryTableShowsFileFacts()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        ModelsPage* page = modelsPage(*app);
        QVERIFY(addAndWait(page, {stories260K(), refMain()}));
        QCOMPARE(page->libraryModel()->rowCount(), 2);
        const int ref = page->libraryModel()->rowOfPath(QFileInfo(refMain()).absoluteFilePath());
        QVERIFY(ref >= 0);
        // Figures from /work/shared/README.md: 15,735,168 parameters, context 512, F16 matrices.
        QCOMPARE(cell(page, ref, ModelLibraryModel::Architecture), QStringLiteral("llama"));
        QCOMPARE(cell(page, ref, ModelLibraryModel::Parameters), QStringLiteral("15.7M"));
        QCOMPARE(cell(page, ref, ModelLibraryModel::ContextLength), QStringLiteral("512"));
        QVERIFY(cell(page, ref, ModelLibraryModel::WeightTypes).contains(QStringLiteral("F16")));
        const auto record = storeAfterPendingWrites(*app).modelByPath(QFileInfo(refMain()).absoluteFilePath().toStdString());
        QVERIFY(record);
        QCOMPARE(record->parameterCount, int64_t(15735168));
        QCOMPARE(record->fileSize, int64_t(QFileInfo(refMain()).size()));

        // Adding the same file again does not duplicate it.
        QVERIFY(addAndWait(page, {refMain()}));
        QCOMPARE(page->libraryModel()->rowCount(), 2);

        // Remove keeps the file on disk. The page is shown first, as a person would see it: the
        // library is one tab of the page, laid out only when the page is on screen.
        app->window().showPage(QStringLiteral("models"));
        page->selectPath(QFileInfo(stories260K()).absoluteFilePath());
        for (QPushButton* b : page->findChildren<QPushButton*>())
            if (b->text() == ModelsPage::tr("Remove"))
                QTest::mouseClick(b, Qt::LeftButton);
        QVERIFY(waitUntil([&] { return page->libraryModel()->rowCount() == 1; }, 3000));
        QVERIFY(QFileInfo::exists(stories260K()));
    }

    void memoryEstimateAndDetails()
    {
        // ref-main: 8 layers, 2 KV heads of 64 dims: K and V in F16 = 2*8*2*64*2 bytes per token.
        const ModelFacts facts = inspectGguf(refMain(), true);
        QCOMPARE(facts.kvBytesPerToken, uint64_t(4096));
        const MemoryEstimate e = estimateMemory(facts, 512, 64ull << 30);
        QCOMPARE(e.kvCache, uint64_t(4096) * 512);
        QCOMPARE(e.fit, MemoryFit::Fits);
        QCOMPARE(estimateMemory(facts, 512, e.total() - 1).fit, MemoryFit::WontFit);
        QCOMPARE(estimateMemory(facts, 512, uint64_t(double(e.total()) / 0.9)).fit, MemoryFit::Tight);

        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        app->window().showPage(QStringLiteral("models"));
        ModelsPage* page = modelsPage(*app);
        QVERIFY(addAndWait(page, {refMain()}));
        page->selectPath(QFileInfo(refMain()).absoluteFilePath());
        QVERIFY(waitUntil([&] { return !page->fitLabel()->text().isEmpty(); }, 10000));
        QCOMPARE(page->fitLabel()->text(), ModelsPage::tr("Fits")); // tens of MB on a machine with GBs

        for (QPushButton* b : page->findChildren<QPushButton*>())
            if (b->text() == ModelsPage::tr("Details…"))
                QTest::mouseClick(b, Qt::LeftButton);
        ModelDetailsDialog* dialog = nullptr;
        QVERIFY(waitUntil([&] { return (dialog = page->findChild<ModelDetailsDialog*>()) != nullptr; }, 10000));
        const auto file = GGUFFile::open(refMain().toStdString());
        QCOMPARE(dialog->metadataTable()->rowCount(), int(file->metadata().size()));
        QCOMPARE(dialog->tensorTable()->rowCount(), int(file->tensors().size()));
        QCOMPARE(dialog->tensorTable()->item(0, 0)->text(), QString::fromStdString(file->tensors()[0].name));
        dialog->close();
    }

    void loadShowsProgressUnloadAndCancel()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        app->window().showPage(QStringLiteral("models"));
        ModelsPage* page = modelsPage(*app);
        ModelHost& host = app->context().host();
        QVERIFY(addAndWait(page, {refMain()}));
        page->selectPath(QFileInfo(refMain()).absoluteFilePath());

        QSignalSpy progress(&host, &ModelHost::loadProgress);
        QSignalSpy loaded(&host, &ModelHost::loaded);
        QTest::mouseClick(page->loadButton(), Qt::LeftButton);
        QCOMPARE(host.state(), ModelHost::State::Loading);
        QVERIFY(page->cancelButton()->isVisible());
        QVERIFY(loaded.wait(60000));
        QVERIFY(progress.count() >= 3);
        int previous = -1;
        for (const auto& args : progress) {
            QVERIFY(args.at(0).toInt() >= previous);
            previous = args.at(0).toInt();
        }
        QCOMPARE(previous, 100);
        QVERIFY(host.isLoaded());
        QCOMPARE(host.loadedModel()->contextSize, 512);
        QVERIFY(!page->cancelButton()->isVisible());
        QVERIFY(page->messageLabel()->text().contains(QStringLiteral("512")));

        QSignalSpy unloaded(&host, &ModelHost::unloaded);
        host.unload();
        QVERIFY(unloaded.wait(10000));
        QVERIFY(!host.isLoaded());

        // Cancel right after asking: the worker sees the flag at its first check.
        QSignalSpy cancelled(&host, &ModelHost::loadCancelled);
        page->loadSelected();
        QTest::mouseClick(page->cancelButton(), Qt::LeftButton);
        QVERIFY(cancelled.wait(30000));
        QVERIFY(!host.isLoaded());
        QCOMPARE(host.state(), ModelHost::State::Empty);
        QVERIFY(page->loadButton()->isEnabled());
    }

    void secondLoadSupersedesTheFirst()
    {
        // Load A then, before it finishes, load B: only B may ever become Ready. A superseded
        // load that reported late used to mark the host Ready with model A while B was queued.
        QTemporaryDir dir;
        auto app = launch(dir.path());
        ModelHost& host = app->context().host();
        QSignalSpy loaded(&host, &ModelHost::loaded);
        QSignalSpy states(&host, &ModelHost::stateChanged);
        host.load(LoadRequest{refMain()});
        host.load(LoadRequest{stories260K()});
        QCOMPARE(host.loadingPath(), stories260K());
        QVERIFY(loaded.wait(60000));
        QTest::qWait(200); // a stale result from load A would arrive by now
        QCOMPARE(loaded.count(), 1);
        QCOMPARE(loaded.at(0).at(0).value<LoadedModel>().path, stories260K());
        QVERIFY(host.isLoaded());
        QCOMPARE(host.loadedModel()->path, stories260K());
        int readyCount = 0;
        for (const auto& args : states)
            if (args.at(0).value<ModelHost::State>() == ModelHost::State::Ready)
                ++readyCount;
        QCOMPARE(readyCount, 1);

        // Unload during a load ends Empty, not stuck in Loading.
        QSignalSpy unloaded(&host, &ModelHost::unloaded);
        QSignalSpy cancelled(&host, &ModelHost::loadCancelled);
        host.load(LoadRequest{refMain()});
        host.unload();
        QVERIFY(unloaded.wait(30000));
        QCOMPARE(host.state(), ModelHost::State::Empty);
        QCOMPARE(cancelled.count(), 1);
        QCOMPARE(cancelled.at(0).at(0).toString(), refMain());
        QVERIFY(!host.isLoaded());
    }

    void corruptFileShowsEngineErrorAndAppStaysUsable()
    {
        QTemporaryDir dir;
        const QString corrupt = dir.filePath(QStringLiteral("broken.gguf"));
        {
            QFile f(corrupt);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QByteArray bytes("GGUF");
            bytes.append(char(3)).append(3, '\0');               // version 3
            bytes.append(QByteArray("\xff\xff\xff\xff\xff\xff\xff\x7f", 8)); // absurd tensor count
            bytes.append(QByteArray(64, '\x01'));
            f.write(bytes);
        }
        QString engineMessage;
        try {
            GGUFFile::open(corrupt.toStdString());
        } catch (const std::exception& e) {
            engineMessage = QString::fromStdString(e.what());
        }
        QVERIFY2(!engineMessage.isEmpty(), "the engine accepted a corrupt file");

        auto app = launch(dir.path());
        app->window().show();
        app->window().showPage(QStringLiteral("models"));
        ModelsPage* page = modelsPage(*app);
        QStringList errors;
        QVERIFY(addAndWait(page, {corrupt}, &errors));
        QCOMPARE(errors.size(), 1);
        QCOMPARE(errors[0], engineMessage);
        QVERIFY(page->messageLabel()->isVisible());
        QVERIFY(page->messageLabel()->text().contains(engineMessage));
        QCOMPARE(page->libraryModel()->rowCount(), 0);

        // Loading it directly (e.g. a file that broke after it was added) fails with the message too.
        ModelHost& host = app->context().host();
        QSignalSpy failed(&host, &ModelHost::loadFailed);
        host.load(LoadRequest{corrupt});
        QVERIFY(failed.wait(30000));
        QVERIFY(page->messageLabel()->text().contains(QStringLiteral("broken.gguf")));
        QCOMPARE(host.state(), ModelHost::State::Empty);

        // The app is still usable: a good model loads afterwards.
        QVERIFY(addAndWait(page, {stories260K()}));
        QSignalSpy loaded(&host, &ModelHost::loaded);
        page->selectPath(QFileInfo(stories260K()).absoluteFilePath());
        page->loadSelected();
        QVERIFY(loaded.wait(30000));
        QVERIFY(host.isLoaded());
    }
};

QTEST_MAIN(TestUiModels)
#include "tst_ui_models.moc"
