#include "session/model_facts.h"

#include "core/platform.h"

#include "gguf/gguf_file.h"
#include "tensor/ggml_type.h"

#include <QFile>
#include <QFileInfo>
#include <QCoreApplication>
#include <QLocale>

#include <algorithm>
#include <set>

namespace tenfold::ui {

QString modelDisplayName(const QString& generalName, const QString& architecture, const QString& path)
{
    const QString name = generalName.trimmed();
    if (name.isEmpty() || name.compare(architecture, Qt::CaseInsensitive) == 0)
        return QFileInfo(path).completeBaseName();
    return name;
}

ModelFacts inspectGguf(const QString& path, bool withDetails)
{
    const auto file = GGUFFile::open(path.toStdString());
    ModelFacts f;
    f.path = path;
    f.fileSize = int64_t(file->fileSize());
    const auto architecture = file->getString("general.architecture");
    f.architecture = architecture ? QString::fromStdString(*architecture)
                                  : QCoreApplication::translate("tenfold::ui::ModelFacts", "unknown");
    f.name = modelDisplayName(QString::fromStdString(file->getString("general.name").value_or("")),
                              f.architecture, path);
    const std::string arch = f.architecture.toStdString();
    auto archInt = [&](const char* suffix) -> int64_t {
        try {
            return file->getInt(arch + "." + suffix).value_or(0);
        } catch (const std::exception&) {
            return 0;
        }
    };
    f.contextLength = int(archInt("context_length"));
    const int64_t nLayer = archInt("block_count");
    const int64_t nEmbd = archInt("embedding_length");
    const int64_t nHead = archInt("attention.head_count");
    int64_t nHeadKv = archInt("attention.head_count_kv");
    if (nHeadKv <= 0)
        nHeadKv = nHead;
    int64_t headDim = archInt("attention.key_length");
    if (headDim <= 0 && nHead > 0)
        headDim = nEmbd / nHead;
    f.kvBytesPerToken = uint64_t(2 * nLayer * nHeadKv * headDim * 2); // K and V, 2 bytes each (F16)

    std::set<QString> types;
    for (const auto& t : file->tensors()) {
        f.parameterCount += t.elementCount();
        f.weightBytes += t.nbytes;
        if (t.ne.size() >= 2)
            types.insert(QString::fromLatin1(typeName(t.type)));
    }
    if (types.empty())
        for (const auto& t : file->tensors())
            types.insert(QString::fromLatin1(typeName(t.type)));
    f.weightTypes = QStringList(types.begin(), types.end()).join(QStringLiteral(", "));

    if (withDetails) {
        for (const auto& [key, value] : file->metadata())
            f.metadata.push_back({QString::fromStdString(key), QString::fromStdString(value.describe(16))});
        for (const auto& t : file->tensors()) {
            QStringList dims;
            for (int64_t d : t.ne)
                dims << QString::number(d);
            f.tensors.push_back({QString::fromStdString(t.name), QString::fromLatin1(typeName(t.type)),
                                 dims.join(QStringLiteral(" × ")), t.nbytes});
        }
    }
    return f;
}

MemoryEstimate estimateMemory(const ModelFacts& facts, int contextSize, uint64_t availableBytes)
{
    MemoryEstimate e;
    const int ctx = contextSize > 0 ? contextSize : std::max(facts.contextLength, 1);
    e.weights = facts.weightBytes;
    e.kvCache = facts.kvBytesPerToken * uint64_t(ctx);
    // Logits, activations and scratch buffers: small next to the weights, but not zero.
    e.overhead = 64ull * 1024 * 1024 + e.weights / 50;
    e.available = availableBytes;
    if (availableBytes == 0)
        e.fit = MemoryFit::Unknown;
    else if (double(e.total()) < 0.8 * double(availableBytes))
        e.fit = MemoryFit::Fits;
    else if (e.total() <= availableBytes)
        e.fit = MemoryFit::Tight;
    else
        e.fit = MemoryFit::WontFit;
    return e;
}

uint64_t availableSystemMemory() { return tenfold::platform::availableMemoryBytes(); }

QString formatBytes(uint64_t bytes)
{
    return QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeTraditionalFormat);
}

QString formatCount(int64_t count)
{
    // Parameter counts: %1 is the number, the suffix is billions / millions / thousands.
    if (count >= 1'000'000'000)
        return QCoreApplication::translate("tenfold::ui::ModelFacts", "%1B").arg(QString::number(double(count) / 1e9, 'f', 2));
    if (count >= 1'000'000)
        return QCoreApplication::translate("tenfold::ui::ModelFacts", "%1M").arg(QString::number(double(count) / 1e6, 'f', 1));
    if (count >= 1'000)
        return QCoreApplication::translate("tenfold::ui::ModelFacts", "%1K").arg(QString::number(double(count) / 1e3, 'f', 0));
    return QString::number(count);
}

} // namespace tenfold::ui
