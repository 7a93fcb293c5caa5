// tenfold: the desktop app. Everything lives in the tenfold_ui library; this file only parses
// the command line and reports a data directory that cannot be opened.
#include "accelerators.h"
#include "core/application.h"
#include "core/main_window.h"
#include "core/theme.h"

#include <QApplication>
#include <QMessageBox>

#include <cstdio>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("tenfold"));
    QApplication::setApplicationDisplayName(QStringLiteral("Tenfold"));
    QApplication::setApplicationVersion(QStringLiteral(TENFOLD_VERSION));
    QApplication::setOrganizationName(QStringLiteral("tenfold"));
    tenfold::ui::initTheme(app);

    tenfold::ui::LaunchOptions options;
    // The accelerators this build offers; the UI reaches them only through the registry.
    options.backends = tenfold::app::makeBackendRegistry();
    QString error;
    if (!tenfold::ui::parseCommandLine(QApplication::arguments(), &options, &error)) {
        std::fprintf(stderr, "tenfold: %s\n", qPrintable(error));
        return 2;
    }
    std::unique_ptr<tenfold::ui::Application> application;
    try {
        application = std::make_unique<tenfold::ui::Application>(app, options);
    } catch (const std::exception& e) {
        const QString message = QCoreApplication::translate(
            "main", "Tenfold cannot open its data folder %1.\n\n%2\n\nChoose another folder with --data-dir.")
                                    .arg(options.dataDir, QString::fromStdString(e.what()));
        std::fprintf(stderr, "tenfold: %s\n", qPrintable(message));
        QMessageBox::critical(nullptr, QStringLiteral("Tenfold"), message);
        return 1;
    }
    application->window().show();
    return app.exec();
}
