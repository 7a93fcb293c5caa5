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
        [&context, receiver, done](Inspected inspected) {
            // The library writes run on the store thread; the result comes back to `receiver`.
            auto facts = std::make_shared<std::vector<ModelFacts>>(std::move(inspected.facts));
            const QStringList errors = inspected.errors;
            context.storeWorker().call<QStringList>(
                receiver,
                [facts](Store& store) {
                    QStringList added;
                    for (const ModelFacts& f : *facts) {
                        ModelRecord r;
                        r.path = f.path.toStdString();
                        r.name = f.name.toStdString();
                        r.architecture = f.architecture.toStdString();
                        r.parameterCount = f.parameterCount;
                        r.weightTypes = f.weightTypes.toStdString();
                        r.fileSize = f.fileSize;
                        r.contextLength = f.contextLength;
                        store.upsertModel(r);
                        added << f.path;
                    }
                    return added;
                },
                [&context, done, errors](QStringList added) {
                    AddResult result;
                    result.errors = errors;
                    result.added = std::move(added);
                    if (!result.added.isEmpty())
                        emit context.modelLibraryChanged();
                    done(result);
                },
                QCoreApplication::translate("Library", "the model library"),
                [done, errors] {
                    AddResult result;
                    result.errors = errors;
                    done(result);
                });
        });
}

LoadRequest makeLoadRequest(AppContext& context, const QString& path, int contextSize)
{
    LoadRequest r;
    r.path = path;
    r.threads = context.settings().threads();
    r.contextSize = contextSize >= 0 ? contextSize : context.settings().contextSize();
    r.profile = context.settings().profiling();
    switch (context.settings().backend()) {
    case BackendChoice::Auto: r.backend = ComputeBackend::Auto; break;
    case BackendChoice::Cpu: r.backend = ComputeBackend::Cpu; break;
    case BackendChoice::Vulkan: r.backend = ComputeBackend::Vulkan; break;
    }
    return r;
}

} // namespace tenfold::ui
