#include "chat/conversation_list_model.h"

#include "core/app_context.h"
#include "store/store.h"

#include <set>

namespace tenfold::ui {

ConversationListModel::ConversationListModel(AppContext& context, QObject* parent)
    : QAbstractListModel(parent), context_(context)
{
    reload();
}

void ConversationListModel::setQuery(const QString& query)
{
    query_ = query.trimmed();
    reload();
}

void ConversationListModel::reload()
{
    std::vector<Row> rows;
    const bool ok = context_.tryStore([&] {
        if (query_.isEmpty()) {
            for (const Conversation& c : context_.store().listConversations())
                rows.push_back({c.id, QString::fromStdString(c.title), QString()});
            return;
        }
        std::set<int64_t> seen;
        for (const SearchHit& hit : context_.store().searchConversations(query_.toStdString())) {
            if (!seen.insert(hit.conversationId).second)
                continue;
            const auto c = context_.store().conversation(hit.conversationId);
            if (!c || c->deleted)
                continue;
            rows.push_back({hit.conversationId, QString::fromStdString(hit.title),
                            hit.messageId ? QString::fromStdString(hit.snippet).simplified() : QString()});
        }
    }, tr("the conversation list"));
    if (!ok)
        return;
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
}

int ConversationListModel::rowOfId(qint64 id) const
{
    for (size_t i = 0; i < rows_.size(); ++i)
        if (rows_[i].id == id)
            return int(i);
    return -1;
}

qint64 ConversationListModel::idAt(int row) const
{
    return row >= 0 && row < int(rows_.size()) ? rows_[size_t(row)].id : 0;
}

int ConversationListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(rows_.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(rows_.size()))
        return {};
    const Row& r = rows_[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return r.snippet.isEmpty() ? r.title : r.title + QLatin1Char('\n') + r.snippet.left(80);
    case Qt::EditRole: return r.title;
    case Qt::ToolTipRole: return r.snippet.isEmpty() ? r.title : r.snippet;
    case IdRole: return r.id;
    case SnippetRole: return r.snippet;
    }
    return {};
}

bool ConversationListModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role != Qt::EditRole || !index.isValid())
        return false;
    const QString title = value.toString().simplified();
    if (title.isEmpty())
        return false;
    Row& r = rows_[size_t(index.row())];
    if (!context_.tryStore([&] { context_.store().renameConversation(r.id, title.toStdString()); },
                           tr("the conversation title")))
        return false;
    r.title = title;
    emit dataChanged(index, index);
    return true;
}

Qt::ItemFlags ConversationListModel::flags(const QModelIndex& index) const
{
    return QAbstractListModel::flags(index) | Qt::ItemIsEditable;
}

} // namespace tenfold::ui
