// tenfold: the desktop app. Everything lives in the tenfold_ui library; this file only parses
// the command line, registers the accelerator backends and reports a data directory that cannot
// be opened.
#include "accelerators.h"
#include "core/app_settings.h"
#include "core/application.h"
#include "core/main_window.h"
#include "core/theme.h"

#include <QApplication>
#include <QMessageBox>
#include <QTranslator>

#include <cstdio>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("tenfold"));
    QApplication::setApplicationDisplayName(QStringLiteral("Tenfold"));
    QApplication::setApplicationVersion(QStringLiteral(TENFOLD_VERSION));
    QApplication::setOrganizationName(QStringLiteral("tenfold"));
    tenfold::ui::initTheme(app);

    // --help and command-line errors come before any data folder is known: they follow the
    // system locale (LANG), with Qt's own strings ("Usage:", "Options:") from qtbase.
    auto early = tenfold::ui::installTranslators(app, QString());
    tenfold::ui::LaunchOptions options;
    QString error;
    if (!tenfold::ui::parseCommandLine(QApplication::arguments(), &options, &error)) {
        std::fprintf(stderr, "tenfold: %s\n", qPrintable(error));
        return 2;
    }
    // The start-up error box speaks the language chosen in that data folder's settings (an INI
    // file, readable even when the database is not).
    early.clear();
    early = tenfold::ui::installTranslators(app, tenfold::ui::AppSettings(options.dataDir).language());

    // The accelerators this build offers; the UI reaches them only through the registry.
    options.backends = tenfold::app::makeBackendRegistry();
    std::unique_ptr<tenfold::ui::Application> application;
    try {
        application = std::make_unique<tenfold::ui::Application>(app, options);
    } catch (const std::exception& e) {
        const QString message = tenfold::ui::startupErrorMessage(options.dataDir, QString::fromStdString(e.what()));
        std::fprintf(stderr, "tenfold: %s\n", qPrintable(message));
        QMessageBox::critical(nullptr, QStringLiteral("Tenfold"), message);
        return 1;
    }
    early.clear(); // the Application installed its own, for the same language
    application->window().show();
    return app.exec();
}
