#pragma once
// The model library as a table: one row per GGUF file in the store.
#include "store/store.h"

#include <QAbstractTableModel>

#include <vector>

namespace tenfold::ui {

class ModelLibraryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Architecture, Parameters, WeightTypes, FileSize, ContextLength, ColumnCount };
    static constexpr int PathRole = Qt::UserRole + 1;

    explicit ModelLibraryModel(QObject* parent = nullptr);
    void setRecords(std::vector<ModelRecord> records);
    const ModelRecord* record(int row) const;
    int rowOfPath(const QString& path) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<ModelRecord> records_;
};

} // namespace tenfold::ui
