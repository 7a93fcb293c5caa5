#include "server/server_request_model.h"

#include <QCoreApplication>
#include <QLocale>

namespace tenfold::ui {

namespace {

QString formatMs(double ms)
{
    if (ms < 0)
        return QStringLiteral("–");
    if (ms < 1000)
        return QCoreApplication::translate("tenfold::ui::ServerRequestModel", "%1 ms").arg(qRound(ms));
    return QCoreApplication::translate("tenfold::ui::ServerRequestModel", "%1 s").arg(QLocale().toString(ms / 1000.0, 'f', 1));
}

} // namespace

void ServerRequestModel::setStatus(const ServerStatus& status)
{
    QVector<ServerRequestInfo> rows = status.active;
    rows += status.recent;
    bool sameRows = rows.size() == rows_.size();
    for (int i = 0; sameRows && i < rows.size(); ++i)
        sameRows = rows[i].id == rows_[i].id && rows[i].finished == rows_[i].finished;
    if (sameRows) {
        rows_ = std::move(rows);
        if (!rows_.isEmpty())
            emit dataChanged(index(0, 0), index(int(rows_.size()) - 1, ColumnCount - 1));
        return;
    }
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
}

void ServerRequestModel::clear()
{
    beginResetModel();
    rows_.clear();
    endResetModel();
}

QString ServerRequestModel::stateText(const ServerRequestInfo& r) const
{
    if (r.finished) {
        // OpenAI's finish reasons; others are shown as the server names them.
        if (r.finishReason.isEmpty() || r.finishReason == QLatin1String("stop"))
            return tr("Finished");
        if (r.finishReason == QLatin1String("length"))
            return tr("Finished (token limit)");
        if (r.finishReason == QLatin1String("cancelled"))
            return tr("Cancelled");
        if (r.finishReason == QLatin1String("error"))
            return tr("Failed");
        return tr("Finished (%1)").arg(r.finishReason);
    }
    if (r.state == QLatin1String("queued"))
        return tr("Queued");
    if (r.state == QLatin1String("prefill"))
        return tr("Reading prompt");
    if (r.state == QLatin1String("generating"))
        return r.choices > 1 ? tr("Generating (%1 choices)").arg(r.choices) : tr("Generating");
    return r.state; // a state this version does not know: shown as the server names it
}

QVariant ServerRequestModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rows_.size())
        return {};
    const ServerRequestInfo& r = rows_[index.row()];
    if (role == Qt::TextAlignmentRole && index.column() >= PromptTokens)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (Column(index.column())) {
    case Id: return r.id;
    case Client: return r.client.isEmpty() ? QStringLiteral("–") : r.client;
    case State: return stateText(r);
    case PromptTokens: return r.promptTokens;
    case GeneratedTokens: return r.generatedTokens;
    case FirstToken: return r.finished ? formatMs(r.ttftMs) : QStringLiteral("–");
    case Time: return formatMs(r.elapsedMs);
    case ColumnCount: break;
    }
    return {};
}

QVariant ServerRequestModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Id: return tr("Request");
    case Client: return tr("Client");
    case State: return tr("State");
    case PromptTokens: return tr("Prompt tokens");
    case GeneratedTokens: return tr("Generated");
    case FirstToken: return tr("First token");
    case Time: return tr("Time");
    case ColumnCount: break;
    }
    return {};
}

} // namespace tenfold::ui
