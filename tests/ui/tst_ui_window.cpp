// Main window: pages from the registry, navigation, restored geometry and page, theme and
// language settings, and a data folder that cannot be used.
#include "gui_test_support.h"

#include "core/app_context.h"
#include "core/main_window.h"
#include "core/page.h"
#include "core/theme.h"
#include "settings/settings_page.h"
#include "core/error.h"

#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QTranslator>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

class TestUiWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { initTheme(*qApp); }

    void pagesComeFromTheRegistry()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        MainWindow& w = app->window();
        w.show();
        QVERIFY(w.windowTitle().contains(QStringLiteral("Tenfold")));
        const PageRegistry registry = PageRegistry::standard();
        QCOMPARE(w.sidebar()->count(), int(registry.entries().size()));
        QCOMPARE(w.pages().size(), 9);
        QStringList ids;
        for (Page* p : w.pages())
            ids << p->pageId();
        QCOMPARE(ids, (QStringList{QStringLiteral("chat"), QStringLiteral("models"), QStringLiteral("optimize"),
                              QStringLiteral("promptlab"), QStringLiteral("server"), QStringLiteral("cache"),
                              QStringLiteral("profiler"), QStringLiteral("costs"), QStringLiteral("settings")}));
        // Clicking a sidebar entry shows its page.
        for (int i = 0; i < w.sidebar()->count(); ++i) {
            const QRect r = w.sidebar()->visualItemRect(w.sidebar()->item(i));
            QTest::mouseClick(w.sidebar()->viewport(), Qt::LeftButton, {}, r.center());
            QCOMPARE(w.currentPage(), w.pages()[i]);
            QCOMPARE(w.sidebar()->item(i)->text(), w.pages()[i]->title());
        }
    }

    void geometryAndLastPageAreRestored()
    {
        QTemporaryDir dir;
        {
            auto app = launch(dir.path());
            MainWindow& w = app->window();
            w.show();
            w.resize(1010, 707);
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            w.showPage(QStringLiteral("models"));
            w.close();
        }
        auto app = launch(dir.path());
        MainWindow& w = app->window();
        w.show();
        QCOMPARE(w.currentPage()->pageId(), QStringLiteral("models"));
        QCOMPARE(w.size(), QSize(1010, 707));
    }

    void themeOverrideFollowsSettings()
    {
        QTemporaryDir dir;
        auto app = launch(dir.path());
        app->window().show();
        auto* settings = qobject_cast<SettingsPage*>(app->window().page(QStringLiteral("settings")));
        QVERIFY(settings);
        QComboBox* theme = settings->themeBox();
        theme->setCurrentIndex(theme->findData(int(ThemeChoice::Dark)));
        QVERIFY(isDarkPalette());
        QCOMPARE(app->context().settings().theme(), ThemeChoice::Dark);
        theme->setCurrentIndex(theme->findData(int(ThemeChoice::Light)));
        QVERIFY(!isDarkPalette());
        theme->setCurrentIndex(theme->findData(int(ThemeChoice::System)));
        QCOMPARE(app->context().settings().theme(), ThemeChoice::System);
    }

    void languageSwitchTakesEffectAfterRestart()
    {
        QTemporaryDir dir;
        {
            auto app = launch(dir.path());
            auto* settings = qobject_cast<SettingsPage*>(app->window().page(QStringLiteral("settings")));
            QComboBox* language = settings->languageBox();
            language->setCurrentIndex(language->findData(QStringLiteral("zh_CN")));
            QCOMPARE(app->context().settings().language(), QStringLiteral("zh_CN"));
            app->context().settings().sync();
        }
        {
            auto app = launch(dir.path());
            QCOMPARE(app->window().sidebar()->item(0)->text(), QStringLiteral("聊天"));
            QCOMPARE(app->window().sidebar()->item(1)->text(), QStringLiteral("模型"));
            QCOMPARE(app->window().sidebar()->item(2)->text(), QStringLiteral("优化"));
            QCOMPARE(app->window().sidebar()->item(3)->text(), QStringLiteral("提示词实验室"));
            QCOMPARE(app->window().sidebar()->item(4)->text(), QStringLiteral("服务器"));
            QCOMPARE(app->window().sidebar()->item(5)->text(), QStringLiteral("缓存"));
            QCOMPARE(app->window().sidebar()->item(6)->text(), QStringLiteral("性能分析"));
            QCOMPARE(app->window().sidebar()->item(7)->text(), QStringLiteral("成本历史"));
            QCOMPARE(app->window().sidebar()->item(8)->text(), QStringLiteral("设置"));
            QVERIFY(app->window().windowTitle().contains(QStringLiteral("Tenfold")));
        }
        // Back to English for the rest of this process.
        for (QTranslator* t : qApp->findChildren<QTranslator*>())
            qApp->removeTranslator(t);
        QLocale::setDefault(QLocale::c());
    }

    void unusableDataFolderGivesAClearError()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("not-a-folder"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        QString message;
        try {
            auto app = launch(file + QStringLiteral("/data"));
        } catch (const IoError& e) {
            message = QString::fromStdString(e.what());
        }
        QVERIFY2(message.contains(QStringLiteral("not-a-folder")), qPrintable(message));
    }
};

QTEST_MAIN(TestUiWindow)
#include "tst_ui_window.moc"
