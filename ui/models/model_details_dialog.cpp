#include "models/model_details_dialog.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace tenfold::ui {
namespace {

QTableWidget* makeTable(const QStringList& headers, QWidget* parent)
{
    auto* t = new QTableWidget(parent);
    t->setColumnCount(int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setAlternatingRowColors(true);
    t->setWordWrap(false);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

} // namespace

ModelDetailsDialog::ModelDetailsDialog(const ModelFacts& facts, QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("Model details — %1").arg(facts.name));
    resize(860, 600);
    auto* layout = new QVBoxLayout(this);
    auto* summary = new QLabel(tr("%1 · %2 · %3 parameters · %4")
                                   .arg(facts.architecture, formatCount(facts.parameterCount),
                                        QString::number(facts.parameterCount), formatBytes(uint64_t(facts.fileSize))),
                               this);
    summary->setWordWrap(true);
    layout->addWidget(summary);

    auto* tabs = new QTabWidget(this);
    metadata_ = makeTable({tr("Key"), tr("Value")}, tabs);
    metadata_->setRowCount(int(facts.metadata.size()));
    for (int i = 0; i < facts.metadata.size(); ++i) {
        metadata_->setItem(i, 0, new QTableWidgetItem(facts.metadata[i].first));
        auto* value = new QTableWidgetItem(facts.metadata[i].second);
        value->setToolTip(facts.metadata[i].second);
        metadata_->setItem(i, 1, value);
    }
    metadata_->resizeColumnToContents(0);
    tabs->addTab(metadata_, tr("Metadata (%1)").arg(facts.metadata.size()));

    tensors_ = makeTable({tr("Tensor"), tr("Type"), tr("Shape"), tr("Size")}, tabs);
    tensors_->setRowCount(int(facts.tensors.size()));
    for (int i = 0; i < facts.tensors.size(); ++i) {
        const TensorRow& t = facts.tensors[i];
        tensors_->setItem(i, 0, new QTableWidgetItem(t.name));
        tensors_->setItem(i, 1, new QTableWidgetItem(t.type));
        tensors_->setItem(i, 2, new QTableWidgetItem(t.shape));
        auto* size = new QTableWidgetItem(formatBytes(t.bytes));
        size->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        tensors_->setItem(i, 3, size);
    }
    tensors_->resizeColumnsToContents();
    tabs->addTab(tensors_, tr("Tensors (%1)").arg(facts.tensors.size()));
    layout->addWidget(tabs, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

} // namespace tenfold::ui
