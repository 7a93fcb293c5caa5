#pragma once
// Adding GGUF files to the model library: header parsing happens off the GUI thread, the store
// write on it. Also builds load requests from the user's engine settings.
#include "session/engine_types.h"

#include <QStringList>

#include <functional>

class QObject;

namespace tenfold::ui {

class AppContext;

struct AddResult {
    QStringList added;   // paths now in the library
    QStringList errors;  // one readable message per file that could not be added
};

// All *.gguf files below `folder`, recursively, sorted.
QStringList findGgufFiles(const QString& folder);

// Inspects each file, stores the good ones and reports through `done` (on the receiver's thread).
void addToLibrary(AppContext& context, QObject* receiver, const QStringList& paths,
                  std::function<void(const AddResult&)> done);

LoadRequest makeLoadRequest(AppContext& context, const QString& path, int contextSize = -1);

} // namespace tenfold::ui
