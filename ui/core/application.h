#pragma once
// Start-up shared by the desktop app and the GUI tests: data directory, language, theme, the
// context and the main window.
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace tenfold {
class BackendRegistry;
}

class QApplication;
class QCoreApplication;
class QTranslator;

namespace tenfold::ui {

class AppContext;
class MainWindow;

struct LaunchOptions {
    QString dataDir;      // empty: the platform's application data folder
    QString modelPath;    // --model: add to the library, load, open a new chat
    // The accelerator backends app/ registered (Vulkan); null runs everything on the CPU.
    std::shared_ptr<const BackendRegistry> backends;
};

// Parses --data-dir and --model. Returns false (with a message in *error) on bad arguments.
bool parseCommandLine(const QStringList& arguments, LaunchOptions* options, QString* error);
QString defaultDataDir();

// Installs the translations for `language` ("" = system locale, "en", "zh_CN"): Tenfold's own
// (embedded .qm) and Qt's (qtbase_*.qm from Qt's translations folder: file dialogs, context
// menus, message-box buttons, command-line help). Returns them, owned by the caller (destroying
// one uninstalls it); empty for English. Qt's file missing (qt6-translations-l10n not installed)
// leaves Qt's own strings in English and nothing else.
std::vector<std::unique_ptr<QTranslator>> installTranslators(QCoreApplication& app, const QString& language);

// The start-up error box's text when the data folder cannot be opened.
QString startupErrorMessage(const QString& dataDir, const QString& reason);

// Everything a running window needs. Constructing it opens the store (throws IoError).
class Application {
public:
    Application(QApplication& app, const LaunchOptions& options);
    ~Application();
    AppContext& context() { return *context_; }
    MainWindow& window() { return *window_; }

private:
    std::unique_ptr<AppContext> context_;
    std::vector<std::unique_ptr<QTranslator>> translators_;
    std::unique_ptr<MainWindow> window_;
};

} // namespace tenfold::ui
