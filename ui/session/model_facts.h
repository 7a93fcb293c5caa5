#pragma once
// What the Models page shows about a GGUF file without loading it: the library columns, the KV
// cache size per token for the memory estimate, and the raw metadata and tensor table.
#include <QString>
#include <QStringList>
#include <QVector>

#include <cstdint>

namespace tenfold::ui {

struct TensorRow {
    QString name;
    QString type;
    QString shape;
    uint64_t bytes = 0;
};

struct ModelFacts {
    QString path;
    QString name;
    QString architecture;
    int64_t parameterCount = 0;
    QString weightTypes;        // "F16, F32"
    int64_t fileSize = 0;
    int contextLength = 0;
    uint64_t weightBytes = 0;   // tensor data
    uint64_t kvBytesPerToken = 0; // keys + values for one position, F16 cache
    QVector<QPair<QString, QString>> metadata; // key -> readable value, in file order
    QVector<TensorRow> tensors;
};

// general.name when it names the model; the file name when it is missing or merely repeats the
// architecture ("llama"), which says nothing to someone choosing between files.
QString modelDisplayName(const QString& generalName, const QString& architecture, const QString& path);

// Throws the engine's IoError / FormatError for unreadable or corrupt files.
ModelFacts inspectGguf(const QString& path, bool withDetails = false);

enum class MemoryFit { Fits, Tight, WontFit, Unknown };

struct MemoryEstimate {
    uint64_t weights = 0;
    uint64_t kvCache = 0;
    uint64_t overhead = 0;      // activations and scratch
    uint64_t total() const { return weights + kvCache + overhead; }
    uint64_t available = 0;     // free RAM (or device memory), 0 when unknown
    MemoryFit fit = MemoryFit::Unknown;
};

// Fits: total < 80% of available; Tight: < 100%; WontFit otherwise.
MemoryEstimate estimateMemory(const ModelFacts& facts, int contextSize, uint64_t availableBytes);
// Memory available to a new model (Linux MemAvailable, Windows available physical memory); 0 when unknown.
uint64_t availableSystemMemory();
QString formatBytes(uint64_t bytes);
QString formatCount(int64_t count); // 15.7M, 260K

} // namespace tenfold::ui
