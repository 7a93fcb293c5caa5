#pragma once
// Start-up shared by the desktop app and the GUI tests: data directory, language, theme, the
// context and the main window.
#include <QString>
#include <QStringList>

#include <memory>

namespace tenfold {
class BackendRegistry;
}

class QApplication;
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

// Installs the translator for `language` ("" = system locale, "en", "zh_CN") from the embedded
// .qm files. Returns the translator (owned by the caller), or null for English.
std::unique_ptr<QTranslator> installTranslator(QApplication& app, const QString& language);

// Everything a running window needs. Constructing it opens the store (throws IoError).
class Application {
public:
    Application(QApplication& app, const LaunchOptions& options);
    ~Application();
    AppContext& context() { return *context_; }
    MainWindow& window() { return *window_; }

private:
    std::unique_ptr<AppContext> context_;
    std::unique_ptr<QTranslator> translator_;
    std::unique_ptr<MainWindow> window_;
};

} // namespace tenfold::ui
