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
    // Read on the store thread. Only the newest request's answer is shown, so results of a
    // search the user has since changed never replace newer ones.
    const quint64 request = ++lastRequest_;
    const std::string query = query_.toStdString();
    context_.storeWorker().call<std::vector<Row>>(
        this,
        [query](Store& store) {
            std::vector<Row> rows;
            if (query.empty()) {
                for (const Conversation& c : store.listConversations())
                    rows.push_back({c.id, QString::fromStdString(c.title), QString()});
                return rows;
            }
            std::set<int64_t> seen;
            for (const SearchHit& hit : store.searchConversations(query)) {
                if (!seen.insert(hit.conversationId).second)
                    continue;
                const auto c = store.conversation(hit.conversationId);
                if (!c || c->deleted)
                    continue;
                rows.push_back({hit.conversationId, QString::fromStdString(hit.title),
                                hit.messageId ? QString::fromStdString(hit.snippet).simplified() : QString()});
            }
            return rows;
        },
        [this, request](std::vector<Row> rows) {
            if (request != lastRequest_)
                return;
            beginResetModel();
            rows_ = std::move(rows);
            endResetModel();
            emit reloaded();
        },
        tr("the conversation list"));
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
    // Shown at once, written on the store thread; a failed write reloads the stored titles.
    context_.storeWorker().post([id = r.id, t = title.toStdString()](Store& store) { store.renameConversation(id, t); },
                                tr("the conversation title"), this, {}, [this] { reload(); });
    r.title = title;
    emit dataChanged(index, index);
    return true;
}

Qt::ItemFlags ConversationListModel::flags(const QModelIndex& index) const
{
    return QAbstractListModel::flags(index) | Qt::ItemIsEditable;
}

} // namespace tenfold::ui
