// Renders every page in English and Chinese and saves PNGs under <build>/screenshots, for a
// person to review. It also checks what a reviewer would look for first: every visible label and
// button with text shows that text in full (no clipping in either language: its text fits its
// width) and actually drew it (its area in the screenshot is not one flat colour).
#include "gui_test_support.h"

#include "chat/chat_page.h"
#include "chat/composer.h"
#include "chat/conversation_settings_panel.h"
#include "core/app_context.h"
#include "core/main_window.h"
#include "core/page.h"
#include "core/theme.h"
#include "models/models_page.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QAbstractButton>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QSpinBox>
#include <QTranslator>
#include <QtTest>

using namespace tenfold;
using namespace tenfold::ui;
using namespace tenfold::test;

namespace {

const char* kMarkdownReply =
    "Here is a **short** example with a list, code and a table:\n\n"
    "1. Load a model on the *Models* page\n"
    "2. Start a chat\n"
    "3. Adjust the sampling settings\n\n"
    "```cpp\nint main() {\n    return 0;\n}\n```\n\n"
    "| Model | Parameters | Context |\n|---|---|---|\n| stories260K | 260K | 512 |\n| ref-main | 15.7M | 512 |\n";

void seedConversation(const QString& dataDir, const QString& model)
{
    Store store(dataDir.toStdString());
    Conversation c;
    c.title = "Markdown rendering";
    c.modelPath = model.toStdString();
    const int64_t id = store.createConversation(c);
    store.appendMessage(id, {"user", "Show me some formatting, please.", "", "{}", {}, MessageState::Complete});
    MessageStats stats{18, 64, 12.5, 310.0, 240.3};
    store.appendMessage(id, {"assistant", kMarkdownReply, "stories260K", "{}", stats, MessageState::Complete});
    Conversation other;
    other.title = "A story about a dog";
    store.createConversation(other);
}

} // namespace

class TestUiScreenshots : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        TENFOLD_REQUIRE_SHARED(sharedFile("models/stories260K.gguf"));
        initTheme(*qApp);
        QDir().mkpath(outputDir());
    }

    void pages_data()
    {
        QTest::addColumn<QString>("language");
        QTest::addColumn<int>("theme");
        QTest::newRow("en") << QStringLiteral("en") << int(ThemeChoice::Light);
        QTest::newRow("zh_CN") << QStringLiteral("zh_CN") << int(ThemeChoice::Light);
        QTest::newRow("en-dark") << QStringLiteral("en") << int(ThemeChoice::Dark);
    }

    void pages()
    {
        QFETCH(QString, language);
        QFETCH(int, theme);
        QTemporaryDir dir;
        const QString model = QFileInfo(stories260K()).absoluteFilePath();
        seedConversation(dir.path(), model);
        presetSettings(dir.path(), [&](AppSettings& s) {
            s.setLanguage(language);
            s.setTheme(ThemeChoice(theme));
            s.setProfiling(true); // the live reply below fills the Profiler page
        });
        auto app = launch(dir.path(), model);
        MainWindow& w = app->window();
        w.resize(1280, 820);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(waitUntil([&] { return app->context().host().isLoaded(); }, 60000));

        // A live reply in a new chat, then back to the seeded conversation for the screenshot.
        auto* chat = qobject_cast<ChatPage*>(w.page(QStringLiteral("chat")));
        chat->settingsPanel()->maxTokensBox()->setValue(48);
        chat->settingsPanel()->seedBox()->setValue(3);
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        chat->composer()->setPlainText(QStringLiteral("Once upon a time"));
        QTest::keyClick(chat->composer(), Qt::Key_Return);
        QVERIFY(finished.wait(60000));
        const QString suffix = QTest::currentDataTag();
        w.showPage(QStringLiteral("chat"));
        QTest::qWait(100);
        QVERIFY(save(w, QStringLiteral("chat-live-%1").arg(suffix)));

        chat->openConversation(1);
        for (Page* p : w.pages()) {
            w.showPage(p->pageId());
            if (p->pageId() == QLatin1String("models"))
                if (auto* models = qobject_cast<ModelsPage*>(p)) {
                    models->selectPath(model);
                    waitUntil([&] { return !models->fitLabel()->text().isEmpty(); }, 5000);
                }
            QTest::qWait(100);
            QVERIFY(save(w, QStringLiteral("%1-%2").arg(p->pageId(), suffix)));
        }
        QLocale::setDefault(QLocale::c());
    }

    // The checks above can fail: a label squeezed below its text and a button whose text is
    // drawn in its background colour are both reported.
    void checkerFindsClippedAndBlankText()
    {
        QWidget window;
        window.resize(400, 120);
        auto* clipped = new QLabel(QStringLiteral("A rather long label that cannot fit"), &window);
        clipped->setGeometry(10, 10, 60, 24);
        auto* fine = new QLabel(QStringLiteral("Fits"), &window);
        fine->setGeometry(10, 40, 200, 24);
        // A mnemonic label is as wide as its text without the '&', which it draws as an underline.
        auto* mnemonic = new QLabel(QStringLiteral("&Parallel requests:"), &window);
        mnemonic->setBuddy(fine);
        mnemonic->setGeometry(220, 40, mnemonic->fontMetrics().horizontalAdvance(QStringLiteral("Parallel requests:")) + 1, 24);
        auto* blank = new QLabel(QStringLiteral("Invisible"), &window);
        blank->setGeometry(10, 70, 200, 24);
        blank->setAutoFillBackground(true);
        QPalette pal = blank->palette();
        pal.setColor(QPalette::Window, Qt::white);
        pal.setColor(QPalette::WindowText, Qt::white);
        blank->setPalette(pal);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QStringList problems = textProblems(window, window.grab().toImage());
        QCOMPARE(problems.size(), 2);
        QVERIFY2(problems[0].contains("A rather long") && problems[0].contains("needs"), qPrintable(problems.join("; ")));
        QVERIFY2(problems[1].contains("Invisible") && problems[1].contains("drew nothing"), qPrintable(problems.join("; ")));
    }

private:
    static QString outputDir() { return QStringLiteral(TENFOLD_BINARY_DIR "/screenshots"); }

    // A text widget whose text does not fit, or whose area shows no text, as "Class 'text': why".
    static QStringList textProblems(QWidget& window, const QImage& image)
    {
        QStringList problems;
        const qreal dpr = image.devicePixelRatio();
        for (QWidget* w : window.findChildren<QWidget*>()) {
            if (!w->isVisibleTo(&window) || w->width() <= 0 || w->height() <= 0)
                continue;
            QString text;
            int available = 0, needed = 0;
            if (auto* label = qobject_cast<QLabel*>(w)) {
                if (label->textFormat() == Qt::RichText || label->wordWrap() || Qt::mightBeRichText(label->text()))
                    continue; // rich and wrapping text lays itself out
                text = label->text();
                available = label->contentsRect().width() - 2 * label->margin() - 2 * label->indent();
                // A label with a buddy draws its mnemonic '&' as an underline, not as a character.
                QString shown = text.section(QLatin1Char('\n'), 0, 0);
                if (label->buddy())
                    shown = mnemonicStripped(shown);
                needed = label->fontMetrics().horizontalAdvance(shown);
            } else if (auto* button = qobject_cast<QAbstractButton*>(w)) {
                text = button->text();
                available = button->width();
                needed = button->minimumSizeHint().width();
            }
            text.remove(QLatin1Char('&'));
            if (text.trimmed().isEmpty())
                continue;
            const QString who = QStringLiteral("%1 '%2'").arg(QString::fromLatin1(w->metaObject()->className()), text.left(40));
            if (needed > available + 1)
                problems << who + QStringLiteral(": needs %1 px, has %2").arg(needed).arg(available);
            // Ink: the widget's own pixels in the window's screenshot are not all one colour.
            const QRect r = QRect(w->mapTo(&window, QPoint(0, 0)), w->size()).intersected(window.rect());
            const QRect px(QPoint(int(r.left() * dpr), int(r.top() * dpr)), QSize(int(r.width() * dpr), int(r.height() * dpr)));
            QSet<QRgb> colours;
            for (int y = px.top(); y <= px.bottom() && colours.size() < 2; y += 1)
                for (int x = px.left(); x <= px.right() && colours.size() < 2; x += 1)
                    colours.insert(image.pixel(x, y));
            if (!px.isEmpty() && colours.size() < 2 && r.intersects(window.rect()))
                problems << who + QStringLiteral(": drew nothing");
        }
        return problems;
    }

    // "&Host:" as drawn ("Host:" with an underlined H); "&&" is a literal ampersand.
    static QString mnemonicStripped(const QString& text)
    {
        QString out;
        for (qsizetype i = 0; i < text.size(); ++i) {
            if (text[i] == QLatin1Char('&') && i + 1 < text.size())
                ++i;
            out += text[i];
        }
        return out;
    }

    static bool save(QWidget& w, const QString& name)
    {
        const QImage image = w.grab().toImage();
        // A page that drew nothing would be one flat colour.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        const QString path = outputDir() + QLatin1Char('/') + name + QStringLiteral(".png");
        qInfo("screenshot: %s", qPrintable(path));
        const QStringList problems = textProblems(w, image);
        for (const QString& p : problems)
            qWarning("%s: %s", qPrintable(name), qPrintable(p));
        return colours.size() > 20 && image.save(path) && problems.isEmpty();
    }
};

QTEST_MAIN(TestUiScreenshots)
#include "tst_ui_screenshots.moc"
