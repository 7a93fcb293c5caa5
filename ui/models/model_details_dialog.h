#pragma once
// Every metadata key and every tensor of one GGUF file.
#include "session/model_facts.h"

#include <QDialog>

class QTableWidget;

namespace tenfold::ui {

class ModelDetailsDialog : public QDialog {
    Q_OBJECT
public:
    ModelDetailsDialog(const ModelFacts& facts, QWidget* parent = nullptr);
    QTableWidget* metadataTable() const { return metadata_; }
    QTableWidget* tensorTable() const { return tensors_; }

private:
    QTableWidget* metadata_ = nullptr;
    QTableWidget* tensors_ = nullptr;
};

} // namespace tenfold::ui
