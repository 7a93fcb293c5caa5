#pragma once
// The model library: add GGUF files or folders, inspect them, see whether one fits in memory,
// and load or unload it with progress and cancel; and the Discover tab (models from the hub).
#include "core/page.h"
#include "session/engine_types.h"
#include "session/model_facts.h"
#include "store/store.h"

#include <functional>
#include <optional>
#include <vector>

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableView;

namespace tenfold::ui {

class DiscoverTab;
class ModelLibraryModel;

class ModelsPage : public Page {
    Q_OBJECT
public:
    ModelsPage(AppContext& context, QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("models"); }
    QString title() const override { return tr("Models"); }
    IconKind icon() const override { return IconKind::Models; }
    void refreshIcons() override;

    // For the command line and tests: add files (asynchronously; libraryUpdated follows).
    void addFiles(const QStringList& paths);
    void selectPath(const QString& path);
    QString selectedPath() const;
    void loadSelected();

    QTableView* table() const { return table_; }
    ModelLibraryModel* libraryModel() const { return model_; }
    QLabel* messageLabel() const { return message_; }
    QLabel* fitLabel() const { return fit_; }
    QProgressBar* progressBar() const { return progress_; }
    QPushButton* loadButton() const { return load_; }
    QPushButton* cancelButton() const { return cancel_; }
    QTabWidget* tabs() const { return tabs_; }
    DiscoverTab* discoverTab() const { return discover_; }

signals:
    void libraryUpdated(const QStringList& added, const QStringList& errors);
    // A folder walk (off the GUI thread) found these files; adding them follows.
    void folderScanned(const QString& folder, const QStringList& files);
    // The library table shows what the store holds (after each reload from the store thread).
    void libraryShown();

public:
    // Walks `folder` for .gguf files on a background thread, then adds them (as the Add folder
    // button does after its dialog).
    void scanFolder(const QString& folder);

private:
    void reloadLibrary();
    void showRecords(std::vector<ModelRecord> records);
    void onSelectionChanged();
    void updateEstimate();
    void updateButtons();
    void showMessage(const QString& text, bool error);
    void addFolder();
    void addFileDialog();
    void removeSelected();
    void showDetails();
    // Parses the file's header off the GUI thread; `done` gets the facts or the engine's message.
    void inspectInBackground(const QString& path, bool withDetails,
                             std::function<void(const std::optional<ModelFacts>&, const QString&)> done);

    AppContext& context_;
    QTabWidget* tabs_ = nullptr;
    DiscoverTab* discover_ = nullptr;
    ModelLibraryModel* model_ = nullptr;
    QTableView* table_ = nullptr;
    QPushButton* addFile_ = nullptr;
    QPushButton* addFolder_ = nullptr;
    QPushButton* remove_ = nullptr;
    QPushButton* details_ = nullptr;
    QLabel* selectedName_ = nullptr;
    QSpinBox* contextSize_ = nullptr;
    QLabel* memory_ = nullptr;
    QLabel* fit_ = nullptr;
    QPushButton* load_ = nullptr;
    QPushButton* unload_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* message_ = nullptr;
    std::optional<ModelFacts> facts_;   // of the selected file
    quint64 inspectGeneration_ = 0;     // drops stale background results
};

} // namespace tenfold::ui
