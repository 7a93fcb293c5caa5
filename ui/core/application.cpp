#include "core/application.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/main_window.h"
#include "core/page.h"
#include "core/theme.h"
#include "models/library_ops.h"
#include "models/models_page.h"
#include "store/store.h"

#include <QApplication>
#include <QCoreApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QLocale>
#include <QStandardPaths>
#include <QTranslator>

namespace tenfold::ui {

QString defaultDataDir()
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (dir.isEmpty())
        dir = QDir::home().filePath(QStringLiteral(".local/share/tenfold"));
    return dir;
}

bool parseCommandLine(const QStringList& arguments, LaunchOptions* options, QString* error)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate("main", "Run language models locally."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption dataDir(QStringLiteral("data-dir"),
                               QCoreApplication::translate("main", "Keep conversations, the model library and settings in DIR."),
                               QStringLiteral("DIR"));
    QCommandLineOption model(QStringLiteral("model"),
                             QCoreApplication::translate("main", "Add FILE to the model library, load it and open a new chat."),
                             QStringLiteral("FILE.gguf"));
    parser.addOption(dataDir);
    parser.addOption(model);
    if (!parser.parse(arguments)) {
        *error = parser.errorText();
        return false;
    }
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    options->dataDir = parser.isSet(dataDir) ? QFileInfo(parser.value(dataDir)).absoluteFilePath() : defaultDataDir();
    if (parser.isSet(model)) {
        const QFileInfo info(parser.value(model));
        if (!info.isFile()) {
            *error = QCoreApplication::translate("main", "The model file %1 does not exist.").arg(parser.value(model));
            return false;
        }
        options->modelPath = info.absoluteFilePath();
    }
    return true;
}

std::unique_ptr<QTranslator> installTranslator(QApplication& app, const QString& language)
{
    const QLocale locale = language.isEmpty() ? QLocale::system() : QLocale(language);
    if (locale.language() != QLocale::Chinese)
        return nullptr;
    auto translator = std::make_unique<QTranslator>();
    if (!translator->load(QStringLiteral(":/i18n/tenfold_zh_CN.qm")))
        return nullptr;
    app.installTranslator(translator.get());
    QLocale::setDefault(QLocale(QLocale::Chinese, QLocale::China));
    return translator;
}

Application::Application(QApplication& app, const LaunchOptions& options)
{
    context_ = std::make_unique<AppContext>(options.dataDir, options.backends);
    // Deletions from earlier sessions can no longer be undone. Queued first on the store thread,
    // so the conversation list (read after it) never shows what it purges.
    context_->storeWorker().post([](Store& store) { store.purgeDeletedConversations(); },
                                 QCoreApplication::translate("tenfold::ui::Application",
                                                             "the clean-up of deleted conversations"));
    translator_ = installTranslator(app, context_->settings().language());
    initTheme(app);
    applyTheme(app, context_->settings().theme());
    window_ = std::make_unique<MainWindow>(*context_, PageRegistry::standard());
    if (!options.modelPath.isEmpty()) {
        if (auto* models = qobject_cast<ModelsPage*>(window_->page(QStringLiteral("models")))) {
            AppContext* ctx = context_.get();
            const QString path = options.modelPath;
            QObject::connect(models, &ModelsPage::libraryUpdated, ctx,
                             [ctx, path](const QStringList& added, const QStringList&) {
                                 if (added.contains(path))
                                     ctx->requestNewChatWithModel(path);
                             }, Qt::SingleShotConnection);
            models->addFiles({options.modelPath});
        }
    }
}

Application::~Application()
{
    window_.reset();
    context_.reset();
    translator_.reset();
}

} // namespace tenfold::ui
