#include "models/library_ops.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/background.h"
#include "session/model_facts.h"
#include "store/store.h"

#include <QCoreApplication>
#include <QDirIterator>
#include <QFileInfo>

#include <vector>

namespace tenfold::ui {

QStringList findGgufFiles(const QString& folder)
{
    QStringList out;
    QDirIterator it(folder, {QStringLiteral("*.gguf"), QStringLiteral("*.GGUF")}, QDir::Files | QDir::Readable,
                    QDirIterator::Subdirectories | QDirIterator::FollowSymlinks);
    while (it.hasNext())
        out << it.next();
    out.sort();
    return out;
}

void addToLibrary(AppContext& context, QObject* receiver, const QStringList& paths,
                  std::function<void(const AddResult&)> done)
{
    struct Inspected {
        std::vector<ModelFacts> facts;
        QStringList errors;
    };
    runInBackground<Inspected>(
        receiver,
        [paths] {
            Inspected out;
            for (const QString& path : paths) {
                try {
                    out.facts.push_back(inspectGguf(QFileInfo(path).absoluteFilePath()));
                } catch (const std::exception& e) {
                    out.errors << QString::fromStdString(e.what());
                }
            }
            return out;
        },
        [&context, done](Inspected inspected) {
            AddResult result;
            result.errors = inspected.errors;
            for (const ModelFacts& f : inspected.facts) {
                ModelRecord r;
                r.path = f.path.toStdString();
                r.name = f.name.toStdString();
                r.architecture = f.architecture.toStdString();
                r.parameterCount = f.parameterCount;
                r.weightTypes = f.weightTypes.toStdString();
                r.fileSize = f.fileSize;
                r.contextLength = f.contextLength;
                if (context.tryStore([&] { context.store().upsertModel(r); },
                                     QCoreApplication::translate("Library", "the model library")))
                    result.added << f.path;
            }
            if (!result.added.isEmpty())
                emit context.modelLibraryChanged();
            done(result);
        });
}

LoadRequest makeLoadRequest(AppContext& context, const QString& path, int contextSize)
{
    LoadRequest r;
    r.path = path;
    r.threads = context.settings().threads();
    r.contextSize = contextSize >= 0 ? contextSize : context.settings().contextSize();
    switch (context.settings().backend()) {
    case BackendChoice::Auto: r.backend = ComputeBackend::Auto; break;
    case BackendChoice::Cpu: r.backend = ComputeBackend::Cpu; break;
    case BackendChoice::Vulkan: r.backend = ComputeBackend::Vulkan; break;
    }
    return r;
}

} // namespace tenfold::ui
