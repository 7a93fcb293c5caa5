#pragma once
// The Server page's live request list: the requests the server is working on (queued, prefill,
// generating), then the ones it finished most recently, newest first, as /tenfold/status reports
// them.
#include "server/server_monitor.h"

#include <QAbstractTableModel>
#include <QVector>

namespace tenfold::ui {

class ServerRequestModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Client, State, PromptTokens, GeneratedTokens, FirstToken, Time, ColumnCount };

    using QAbstractTableModel::QAbstractTableModel;

    // Replaces the rows with `status`; rows keep their place (and the view its selection) when
    // the same requests are listed again with new figures.
    void setStatus(const ServerStatus& status);
    void clear();
    const ServerRequestInfo& request(int row) const { return rows_.at(row); }

    int rowCount(const QModelIndex& parent = {}) const override { return parent.isValid() ? 0 : int(rows_.size()); }
    int columnCount(const QModelIndex& parent = {}) const override { return parent.isValid() ? 0 : ColumnCount; }
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QString stateText(const ServerRequestInfo& r) const;

    QVector<ServerRequestInfo> rows_;
};

} // namespace tenfold::ui
