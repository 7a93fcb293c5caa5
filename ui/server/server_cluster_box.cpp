#include "server/server_cluster_box.h"

#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableWidget>
#include <QVBoxLayout>

namespace tenfold::ui {

namespace {

enum Column { Rank, Host, Role, Layers, InFlight, Served, Failed, Compute, Memory, State, ColumnCount };

} // namespace

ServerClusterBox::ServerClusterBox(QWidget* parent) : QGroupBox(tr("Cluster (MPI)"), parent)
{
    auto* layout = new QVBoxLayout(this);
    summary_ = new QLabel(this);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_->setAccessibleName(tr("Cluster summary"));
    layout->addWidget(summary_);
    table_ = new QTableWidget(0, ColumnCount, this);
    table_->setHorizontalHeaderLabels({tr("Rank"), tr("Host"), tr("Role"), tr("Layers"), tr("In flight"),
                                       tr("Served"), tr("Failed"), tr("Compute (s)"), tr("Memory"), tr("State")});
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setAlternatingRowColors(true);
    table_->setShowGrid(false);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setMaximumHeight(160);
    table_->setAccessibleName(tr("Ranks of the MPI job"));
    layout->addWidget(table_);
    hide();
}

void ServerClusterBox::clear()
{
    table_->setRowCount(0);
    summary_->clear();
    hide();
}

void ServerClusterBox::setStatus(const ServerStatus& status)
{
    if (status.cluster.isEmpty()) {
        clear();
        return;
    }
    int replicas = 0, serving = 0, lost = 0, inFlight = 0;
    QStringList lostNames, split;
    const bool pipeline = status.clusterMode == QLatin1String("pipeline");
    table_->setRowCount(int(status.cluster.size()));
    for (int row = 0; row < int(status.cluster.size()); ++row) {
        const ServerClusterRank& r = status.cluster[row];
        const bool replica = r.role == QLatin1String("replica");
        // A pipeline stage computes its layers of every request (rank 0 is the front end too).
        const bool stage = r.role.endsWith(QLatin1String("stage"));
        const bool computes = replica || stage;
        replicas += replica;
        if (stage && r.endLayer > r.firstLayer)
            split << QString::number(r.endLayer - r.firstLayer);
        serving += replica && r.ready && !r.lost;
        lost += r.lost;
        inFlight += r.inFlight;
        if (r.lost)
            lostNames << QString::number(r.rank);
        QString state;
        if (r.lost)
            state = tr("Lost: %1").arg(r.lostReason);
        else if (!r.ready)
            state = tr("Starting");
        else if (stage)
            state = tr("Computing its layers");
        else
            state = replica ? tr("Serving") : tr("Routing requests");
        const QString layers = r.endLayer > r.firstLayer && r.firstLayer >= 0
                                   ? tr("%1 to %2").arg(r.firstLayer).arg(r.endLayer - 1)
                                   : tr("none");
        const QString cells[ColumnCount] = {
            QString::number(r.rank),
            r.host,
            replica ? tr("Whole-model replica")
            : stage ? (r.rank == 0 ? tr("HTTP front end and pipeline stage") : tr("Pipeline stage"))
                    : tr("HTTP front end"),
            layers,
            replica ? QString::number(r.inFlight) : QString(),
            replica ? QString::number(r.completed) : QString(),
            replica ? QString::number(r.failed) : QString(),
            computes && r.busySeconds >= 0 ? QLocale().toString(r.busySeconds, 'f', 1) : QString(),
            computes && r.residentBytes > 0
                ? QLocale().formattedDataSize(r.residentBytes, 1, QLocale::DataSizeTraditionalFormat)
                : QString(),
            state,
        };
        for (int c = 0; c < ColumnCount; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c == Host)
                item->setToolTip(tr("Process %1 on %2").arg(r.pid).arg(r.host));
            if (c == State && r.lost)
                item->setToolTip(r.lostReason);
            if (c == Compute)
                item->setToolTip(stage ? tr("Time computing its layers since it started")
                                       : tr("Time inside the replica's forward passes since it started"));
            if (c == Memory)
                item->setToolTip(stage ? tr("The stage process's resident memory")
                                       : tr("The replica process's resident memory"));
            if (c == Rank || c == InFlight || c == Served || c == Failed || c == Compute || c == Memory)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            table_->setItem(row, c, item);
        }
    }
    QString summary;
    if (pipeline) {
        summary = tr("MPI job, pipeline: %1 ranks, layers split %2.")
                      .arg(status.cluster.size())
                      .arg(split.join(QStringLiteral(" + ")));
        if (lost > 0)
            summary += QLatin1Char(' ') +
                       tr("Lost ranks: %1; their layers are gone, so the job ends.").arg(lostNames.join(QStringLiteral(", ")));
    } else {
        const QString mode =
            status.clusterMode == QLatin1String("data_parallel") ? tr("data parallel") : status.clusterMode;
        summary = tr("MPI job, %1: %2 ranks, %3 of %4 replicas serving, %5 requests in flight.")
                      .arg(mode)
                      .arg(status.cluster.size())
                      .arg(serving)
                      .arg(replicas)
                      .arg(inFlight);
        if (lost > 0)
            summary += QLatin1Char(' ') + tr("Lost ranks: %1.").arg(lostNames.join(QStringLiteral(", ")));
    }
    summary_->setText(summary);
    show();
}

} // namespace tenfold::ui
