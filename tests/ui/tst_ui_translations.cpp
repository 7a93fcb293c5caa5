// The Chinese translation is complete (no unfinished or empty entries, numerus forms filled) and
// the embedded .qm translates the interface.
#include "core/application.h"

#include <QFile>
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
};

QTEST_MAIN(TestUiTranslations)
#include "tst_ui_translations.moc"
