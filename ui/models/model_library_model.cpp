#include "models/model_library_model.h"

#include "session/model_facts.h"

namespace tenfold::ui {

ModelLibraryModel::ModelLibraryModel(QObject* parent) : QAbstractTableModel(parent) {}

void ModelLibraryModel::setRecords(std::vector<ModelRecord> records)
{
    beginResetModel();
    records_ = std::move(records);
    endResetModel();
}

const ModelRecord* ModelLibraryModel::record(int row) const
{
    return row >= 0 && row < int(records_.size()) ? &records_[size_t(row)] : nullptr;
}

int ModelLibraryModel::rowOfPath(const QString& path) const
{
    for (size_t i = 0; i < records_.size(); ++i)
        if (QString::fromStdString(records_[i].path) == path)
            return int(i);
    return -1;
}

int ModelLibraryModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(records_.size());
}

int ModelLibraryModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ModelLibraryModel::data(const QModelIndex& index, int role) const
{
    const ModelRecord* r = record(index.row());
    if (!r)
        return {};
    if (role == PathRole)
        return QString::fromStdString(r->path);
    if (role == Qt::ToolTipRole)
        return QString::fromStdString(r->path);
    if (role == Qt::TextAlignmentRole && index.column() >= Parameters && index.column() != WeightTypes)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Name: return QString::fromStdString(r->name);
    case Architecture: return QString::fromStdString(r->architecture);
    case Parameters: return formatCount(r->parameterCount);
    case WeightTypes: return QString::fromStdString(r->weightTypes);
    case FileSize: return formatBytes(uint64_t(r->fileSize));
    case ContextLength: return r->contextLength;
    }
    return {};
}

QVariant ModelLibraryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Name");
    case Architecture: return tr("Architecture");
    case Parameters: return tr("Parameters");
    case WeightTypes: return tr("Weight types");
    case FileSize: return tr("File size");
    case ContextLength: return tr("Context");
    }
    return {};
}

} // namespace tenfold::ui
