// The Chinese translation is complete (no unfinished or empty entries, numerus forms filled) and
// the embedded .qm translates the interface.
#include "core/application.h"

#include <QCoreApplication>
#include <QFile>
#include <QTemporaryDir>
#include <QProcess>
#include <QTranslator>
#include <QXmlStreamReader>
#include <QtTest>

class TestUiTranslations : public QObject {
    Q_OBJECT
private slots:
    void tsFileIsComplete()
    {
        QFile f(QStringLiteral(TENFOLD_SOURCE_DIR "/translations/tenfold_zh_CN.ts"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&f);
        int messages = 0;
        QStringList problems;
        QString context, source;
        while (!xml.atEnd()) {
            xml.readNext();
            if (!xml.isStartElement())
                continue;
            if (xml.name() == QLatin1String("name"))
                context = xml.readElementText();
            else if (xml.name() == QLatin1String("source"))
                source = xml.readElementText();
            else if (xml.name() == QLatin1String("translation")) {
                ++messages;
                const QString type = xml.attributes().value(QStringLiteral("type")).toString();
                if (type == QLatin1String("unfinished") || type == QLatin1String("obsolete") ||
                    type == QLatin1String("vanished"))
                    problems << QStringLiteral("%1: %2 (%3)").arg(context, source, type);
                const QString text = xml.readElementText(QXmlStreamReader::IncludeChildElements);
                if (text.trimmed().isEmpty())
                    problems << QStringLiteral("%1: %2 (empty)").arg(context, source);
            }
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QVERIFY2(messages > 100, "the .ts file looks empty; run lupdate");
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }

    void everyStringInTheSourcesIsTranslated()
    {
        // lupdate over ui/ into a copy of the .ts: a tr() string added to the code but never
        // translated shows up as a new unfinished entry.
        QTemporaryDir dir;
        const QString copy = dir.filePath(QStringLiteral("tenfold_zh_CN.ts"));
        QVERIFY(QFile::copy(QStringLiteral(TENFOLD_SOURCE_DIR "/translations/tenfold_zh_CN.ts"), copy));
        QProcess lupdate;
        lupdate.start(QString::fromUtf8(TENFOLD_LUPDATE),
                      {QStringLiteral("-silent"), QStringLiteral("-no-obsolete"), QStringLiteral("-locations"),
                       QStringLiteral("none"), QStringLiteral(TENFOLD_SOURCE_DIR "/ui"), QStringLiteral("-ts"), copy});
        QVERIFY(lupdate.waitForFinished(60000));
        QVERIFY2(lupdate.exitCode() == 0, lupdate.readAllStandardError().constData());
        QFile f(copy);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&f);
        QStringList untranslated;
        QString source;
        while (!xml.atEnd()) {
            xml.readNext();
            if (!xml.isStartElement())
                continue;
            if (xml.name() == QLatin1String("source"))
                source = xml.readElementText();
            else if (xml.name() == QLatin1String("translation") &&
                     xml.attributes().value(QStringLiteral("type")) == QLatin1String("unfinished"))
                untranslated << source;
        }
        QVERIFY2(untranslated.isEmpty(), qPrintable(QStringLiteral("not in translations/tenfold_zh_CN.ts:\n") +
                                                    untranslated.join(QLatin1Char('\n'))));
    }

    void embeddedTranslationWorks()
    {
        QTranslator translator;
        QVERIFY(translator.load(QStringLiteral(":/i18n/tenfold_zh_CN.qm")));
        QCOMPARE(translator.translate("tenfold::ui::SettingsPage", "Settings"), QStringLiteral("设置"));
        QCOMPARE(translator.translate("tenfold::ui::ChatPage", "Send"), QStringLiteral("发送"));
        // Plural forms resolve.
        QVERIFY(!translator.translate("tenfold::ui::ModelsPage", "Added %n model(s) to the library.", nullptr, 3)
                     .isEmpty());
    }

    void chineseLoadsQtsOwnTranslations()
    {
        // What a zh_CN start installs: Qt's strings (message-box buttons, file dialogs, context
        // menus, command-line help) are Chinese too, not only Tenfold's.
        auto translators = tenfold::ui::installTranslators(*qApp, QStringLiteral("zh_CN"));
        QCOMPARE(int(translators.size()), 2);
        QCOMPARE(QCoreApplication::translate("QPlatformTheme", "OK"), QStringLiteral("确定"));
        QCOMPARE(QCoreApplication::translate("QFileDialog", "Back"), QStringLiteral("后退"));
        QCOMPARE(QCoreApplication::translate("QCommandLineParser", "Displays help on commandline options."),
                 QStringLiteral("在命令行选项上显示帮助。"));
        QCOMPARE(QCoreApplication::translate("tenfold::ui::ChatPage", "Send"), QStringLiteral("发送"));
        // The start-up error box.
        const QString message = tenfold::ui::startupErrorMessage(QStringLiteral("/x"), QStringLiteral("disk full"));
        QVERIFY2(message.startsWith(QStringLiteral("Tenfold 无法打开数据文件夹 /x")), qPrintable(message));
        QVERIFY(message.contains(QStringLiteral("disk full")));
        translators.clear();
        QCOMPARE(QCoreApplication::translate("QPlatformTheme", "OK"), QStringLiteral("OK"));
        QVERIFY(tenfold::ui::installTranslators(*qApp, QStringLiteral("en")).empty());
    }

    void helpFollowsTheSystemLanguage()
    {
        auto help = [](const QString& lang) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("LANG"), lang);
            env.insert(QStringLiteral("LC_ALL"), lang);
            env.remove(QStringLiteral("LANGUAGE"));
            env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
            p.setProcessEnvironment(env);
            p.start(QString::fromUtf8(TENFOLD_APP_BINARY), {QStringLiteral("--help")});
            if (!p.waitForFinished(30000))
                return QStringLiteral("<timed out>");
            return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        };
        const QString chinese = help(QStringLiteral("zh_CN.UTF-8"));
        QVERIFY2(chinese.contains(QStringLiteral("用法")), qPrintable(chinese));                   // Qt's "Usage:"
        QVERIFY2(chinese.contains(QStringLiteral("在本机运行语言模型。")), qPrintable(chinese));   // Tenfold's
        QVERIFY2(chinese.contains(QStringLiteral("在命令行选项上显示帮助")), qPrintable(chinese));
        const QString english = help(QStringLiteral("C"));
        QVERIFY2(english.contains(QStringLiteral("Usage:")) && english.contains(QStringLiteral("Run language models locally.")),
                 qPrintable(english));
    }
};

QTEST_MAIN(TestUiTranslations)
#include "tst_ui_translations.moc"
