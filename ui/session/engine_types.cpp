#include "session/engine_types.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace tenfold::ui {

QString SamplingSettings::toJson() const
{
    QJsonObject o;
    o[QStringLiteral("temperature")] = temperature;
    o[QStringLiteral("top_k")] = topK;
    o[QStringLiteral("top_p")] = topP;
    o[QStringLiteral("min_p")] = minP;
    o[QStringLiteral("repeat_penalty")] = repeatPenalty;
    o[QStringLiteral("max_tokens")] = maxTokens;
    o[QStringLiteral("seed")] = double(seed);
    if (!draftModelPath.isEmpty()) {
        o[QStringLiteral("draft_model")] = draftModelPath;
        o[QStringLiteral("draft_max")] = draftMax;
    }
    if (semanticCache) {
        o[QStringLiteral("semantic_cache")] = true;
        o[QStringLiteral("similarity_threshold")] = similarityThreshold;
    }
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

SamplingSettings SamplingSettings::fromJson(const QString& json)
{
    SamplingSettings s;
    const QJsonObject o = QJsonDocument::fromJson(json.toUtf8()).object();
    s.temperature = o.value(QStringLiteral("temperature")).toDouble(s.temperature);
    s.topK = o.value(QStringLiteral("top_k")).toInt(s.topK);
    s.topP = o.value(QStringLiteral("top_p")).toDouble(s.topP);
    s.minP = o.value(QStringLiteral("min_p")).toDouble(s.minP);
    s.repeatPenalty = o.value(QStringLiteral("repeat_penalty")).toDouble(s.repeatPenalty);
    s.maxTokens = o.value(QStringLiteral("max_tokens")).toInt(s.maxTokens);
    s.seed = qint64(o.value(QStringLiteral("seed")).toDouble(double(s.seed)));
    s.draftModelPath = o.value(QStringLiteral("draft_model")).toString();
    s.draftMax = std::clamp(o.value(QStringLiteral("draft_max")).toInt(s.draftMax), 1, 64);
    s.semanticCache = o.value(QStringLiteral("semantic_cache")).toBool(false);
    s.similarityThreshold = std::clamp(o.value(QStringLiteral("similarity_threshold")).toDouble(s.similarityThreshold), 0.5, 1.0);
    return s;
}

} // namespace tenfold::ui
