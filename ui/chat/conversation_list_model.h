#pragma once
// The conversation list: every conversation, newest first, or the hits of a search over titles
// and message text. Titles are editable in place (rename).
#include <QAbstractListModel>

#include <vector>

namespace tenfold::ui {

class AppContext;

class ConversationListModel : public QAbstractListModel {
    Q_OBJECT
public:
    static constexpr int IdRole = Qt::UserRole + 1;
    static constexpr int SnippetRole = Qt::UserRole + 2;

    explicit ConversationListModel(AppContext& context, QObject* parent = nullptr);

    // Empty query: all conversations.
    void setQuery(const QString& query);
    QString query() const { return query_; }
    void reload();
    int rowOfId(qint64 id) const;
    qint64 idAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

signals:
    // The rows were replaced by the answer of the latest reload() / setQuery().
    void reloaded();

private:
    struct Row {
        qint64 id = 0;
        QString title;
        QString snippet;
    };
    AppContext& context_;
    QString query_;
    std::vector<Row> rows_;
    quint64 lastRequest_ = 0;
};

} // namespace tenfold::ui
