#pragma once
// The Server page's view of an MPI server (tenfold-worker serve): one row per rank with its
// host, role, layers, requests in flight, served and failed, and whether it is serving, starting
// or lost (with the reason). Hidden while the polled server is a single process.
#include "server/server_monitor.h"

#include <QGroupBox>

class QLabel;
class QTableWidget;

namespace tenfold::ui {

class ServerClusterBox : public QGroupBox {
    Q_OBJECT
public:
    explicit ServerClusterBox(QWidget* parent = nullptr);

    // Shows the status's ranks, or hides the box when it has none.
    void setStatus(const tenfold::ui::ServerStatus& status);
    void clear();

    QLabel* summaryLabel() const { return summary_; }
    QTableWidget* table() const { return table_; }

private:
    QLabel* summary_ = nullptr;
    QTableWidget* table_ = nullptr;
};

} // namespace tenfold::ui
