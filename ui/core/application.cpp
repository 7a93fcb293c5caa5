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

std::vector<std::unique_ptr<QTranslator>> installTranslators(QCoreApplication& app, const QString& language)
{
    std::vector<std::unique_ptr<QTranslator>> out;
    const QLocale locale = language.isEmpty() ? QLocale::system() : QLocale(language);
    if (locale.language() != QLocale::Chinese)
        return out;
    auto ours = std::make_unique<QTranslator>();
    if (!ours->load(QStringLiteral(":/i18n/tenfold_zh_CN.qm")))
        return out;
    const QLocale chinese(QLocale::Chinese, QLocale::China);
    auto qt = std::make_unique<QTranslator>();
    if (qt->load(chinese, QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        app.installTranslator(qt.get());
        out.push_back(std::move(qt));
    }
    app.installTranslator(ours.get());
    out.push_back(std::move(ours));
    QLocale::setDefault(chinese);
    return out;
}

QString startupErrorMessage(const QString& dataDir, const QString& reason)
{
    return QCoreApplication::translate("main", "Tenfold cannot open its data folder %1.\n\n%2\n\n"
                                               "Choose another folder with --data-dir.")
        .arg(dataDir, reason);
}

Application::Application(QApplication& app, const LaunchOptions& options)
{
    context_ = std::make_unique<AppContext>(options.dataDir, options.backends);
    // Deletions from earlier sessions can no longer be undone. Queued first on the store thread,
    // so the conversation list (read after it) never shows what it purges.
    context_->storeWorker().post([](Store& store) { store.purgeDeletedConversations(); },
                                 QCoreApplication::translate("tenfold::ui::Application",
                                                             "the clean-up of deleted conversations"));
    translators_ = installTranslators(app, context_->settings().language());
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
    translators_.clear();
}

} // namespace tenfold::ui
