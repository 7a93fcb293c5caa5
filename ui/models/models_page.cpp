#include "models/models_page.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/background.h"
#include "session/backend_factory.h"
#include "session/model_host.h"
#include "models/discover_tab.h"
#include "models/library_ops.h"
#include "models/model_details_dialog.h"
#include "models/model_library_model.h"
#include "store/store.h"

#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace tenfold::ui {

ModelsPage::ModelsPage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    // Two tabs: the library (files on this machine) and Discover (the model hub).
    auto* pageLayout = new QVBoxLayout(this);
    pageLayout->setContentsMargins(0, 0, 0, 0);
    tabs_ = new QTabWidget(this);
    tabs_->setDocumentMode(true);
    pageLayout->addWidget(tabs_);
    auto* libraryTab = new QWidget(tabs_);
    auto* outer = new QVBoxLayout(libraryTab);
    outer->setContentsMargins(28, 24, 28, 24);
    outer->setSpacing(14);

    auto* header = new QHBoxLayout;
    auto* heading = new QLabel(tr("Models"), this);
    heading->setObjectName(QStringLiteral("pageTitle"));
    header->addWidget(heading);
    header->addStretch(1);
    addFile_ = new QPushButton(tr("Add file…"), this);
    addFolder_ = new QPushButton(tr("Add folder…"), this);
    details_ = new QPushButton(tr("Details…"), this);
    remove_ = new QPushButton(tr("Remove"), this);
    for (QPushButton* b : {addFile_, addFolder_, details_, remove_})
        header->addWidget(b);
    outer->addLayout(header);

    model_ = new ModelLibraryModel(this);
    table_ = new QTableView(this);
    table_->setModel(model_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setAlternatingRowColors(true);
    table_->setShowGrid(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(30);
    table_->horizontalHeader()->setSectionResizeMode(ModelLibraryModel::Name, QHeaderView::Stretch);
    table_->horizontalHeader()->setMinimumSectionSize(90);
    table_->setWordWrap(false);
    outer->addWidget(table_, 1);

    auto* panel = new QGroupBox(tr("Load"), this);
    auto* panelLayout = new QVBoxLayout(panel);
    panelLayout->setSpacing(10);
    selectedName_ = new QLabel(tr("Select a model in the library."), panel);
    selectedName_->setWordWrap(true);
    panelLayout->addWidget(selectedName_);

    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Context length:"), panel));
    contextSize_ = new QSpinBox(panel);
    contextSize_->setRange(0, 131072);
    contextSize_->setSingleStep(256);
    contextSize_->setSpecialValueText(tr("Model default"));
    contextSize_->setValue(context_.settings().contextSize());
    row->addWidget(contextSize_);
    row->addSpacing(16);
    memory_ = new QLabel(panel);
    memory_->setWordWrap(true);
    row->addWidget(memory_, 1);
    fit_ = new QLabel(panel);
    fit_->setAlignment(Qt::AlignCenter);
    fit_->setMinimumWidth(110);
    row->addWidget(fit_);
    panelLayout->addLayout(row);

    auto* actions = new QHBoxLayout;
    progress_ = new QProgressBar(panel);
    progress_->setRange(0, 100);
    progress_->setTextVisible(true);
    progress_->hide();
    actions->addWidget(progress_, 1);
    actions->addStretch(0);
    load_ = new QPushButton(tr("Load"), panel);
    load_->setDefault(true);
    unload_ = new QPushButton(tr("Unload"), panel);
    cancel_ = new QPushButton(tr("Cancel"), panel);
    cancel_->hide();
    actions->addWidget(load_);
    actions->addWidget(unload_);
    actions->addWidget(cancel_);
    panelLayout->addLayout(actions);
    message_ = new QLabel(panel);
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->hide();
    panelLayout->addWidget(message_);
    outer->addWidget(panel);

    tabs_->addTab(libraryTab, tr("&Library"));
    discover_ = new DiscoverTab(context_, tabs_);
    tabs_->addTab(discover_, tr("Disco&ver"));
    // A verified download joins the library like a file added by hand.
    connect(discover_, &DiscoverTab::modelDownloaded, this, [this](const QString& path) { addFiles({path}); });

    connect(addFile_, &QPushButton::clicked, this, &ModelsPage::addFileDialog);
    connect(addFolder_, &QPushButton::clicked, this, &ModelsPage::addFolder);
    connect(remove_, &QPushButton::clicked, this, &ModelsPage::removeSelected);
    connect(details_, &QPushButton::clicked, this, &ModelsPage::showDetails);
    connect(table_, &QTableView::doubleClicked, this, &ModelsPage::showDetails);
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &ModelsPage::onSelectionChanged);
    connect(contextSize_, &QSpinBox::valueChanged, this, &ModelsPage::updateEstimate);
    connect(load_, &QPushButton::clicked, this, &ModelsPage::loadSelected);
    connect(unload_, &QPushButton::clicked, this, [this] { context_.host().unload(); });
    connect(cancel_, &QPushButton::clicked, this, [this] { context_.host().cancelLoad(); });
    connect(&context_, &AppContext::modelLibraryChanged, this, &ModelsPage::reloadLibrary);
    connect(&context_, &AppContext::gpuDevicesReady, this, &ModelsPage::updateEstimate);

    ModelHost& host = context_.host();
    connect(&host, &ModelHost::stateChanged, this, &ModelsPage::updateButtons);
    connect(&host, &ModelHost::loadProgress, this, [this](int percent, const QString& stage) {
        progress_->setValue(percent);
        progress_->setFormat(tr("%1 — %p%").arg(stage));
    });
    connect(&host, &ModelHost::loaded, this, [this](const LoadedModel& m) {
        showMessage(tr("Loaded %1 on %2 with a context of %3 tokens (chat format: %4).")
                        .arg(m.name, m.backendName)
                        .arg(m.contextSize)
                        .arg(m.templateName),
                    false);
        const std::string path = m.path.toStdString();
        context_.storeWorker().post([path](Store& store) { store.markModelUsed(path); }, tr("the model library"));
    });
    connect(&host, &ModelHost::loadFailed, this, [this](const QString& path, const QString& message) {
        showMessage(tr("Could not load %1: %2").arg(QFileInfo(path).fileName(), message), true);
    });
    connect(&host, &ModelHost::loadCancelled, this,
            [this](const QString&) { showMessage(tr("Loading was cancelled."), false); });
    connect(&host, &ModelHost::unloaded, this, [this] { showMessage(tr("The model was unloaded."), false); });

    reloadLibrary();
    refreshIcons();
    updateButtons();
}

void ModelsPage::refreshIcons()
{
    if (!addFile_)
        return;
    addFile_->setIcon(themedIcon(IconKind::AddFile));
    addFolder_->setIcon(themedIcon(IconKind::AddFolder));
    details_->setIcon(themedIcon(IconKind::Info));
    remove_->setIcon(themedIcon(IconKind::Delete));
    load_->setIcon(themedIcon(IconKind::Load));
    unload_->setIcon(themedIcon(IconKind::Unload));
    cancel_->setIcon(themedIcon(IconKind::Stop));
}

void ModelsPage::reloadLibrary()
{
    context_.storeWorker().call<std::vector<ModelRecord>>(
        this, [](Store& store) { return store.models(); },
        [this](std::vector<ModelRecord> records) { showRecords(std::move(records)); }, tr("the model library"));
}

void ModelsPage::showRecords(std::vector<ModelRecord> records)
{
    const QString keep = selectedPath();
    model_->setRecords(std::move(records));
    table_->resizeColumnsToContents();
    table_->horizontalHeader()->setSectionResizeMode(ModelLibraryModel::Name, QHeaderView::Stretch);
    if (!keep.isEmpty())
        selectPath(keep);
    else if (model_->rowCount() > 0)
        table_->selectRow(0);
    updateButtons();
    emit libraryShown();
}

void ModelsPage::addFiles(const QStringList& paths)
{
    if (paths.isEmpty())
        return;
    showMessage(tr("Reading %n file(s)…", nullptr, int(paths.size())), false);
    addToLibrary(context_, this, paths, [this](const AddResult& result) {
        if (!result.added.isEmpty())
            selectPath(QFileInfo(result.added.back()).absoluteFilePath());
        if (!result.errors.isEmpty())
            showMessage(tr("Could not add %n file(s):", nullptr, int(result.errors.size())) + QLatin1Char('\n') +
                            result.errors.join(QLatin1Char('\n')),
                        true);
        else
            showMessage(tr("Added %n model(s) to the library.", nullptr, int(result.added.size())), false);
        emit libraryUpdated(result.added, result.errors);
    });
}

void ModelsPage::addFileDialog()
{
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Add model files"), QString(),
                                                            tr("GGUF models (*.gguf);;All files (*)"));
    addFiles(files);
}

void ModelsPage::addFolder()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a folder of models"));
    if (dir.isEmpty())
        return;
    scanFolder(dir);
}

void ModelsPage::scanFolder(const QString& dir)
{
    // A folder on a network share or a big disk can take seconds to walk: off the GUI thread.
    showMessage(tr("Looking for models in %1…").arg(dir), false);
    runInBackground<QStringList>(this, [dir] { return findGgufFiles(dir); }, [this, dir](QStringList files) {
        if (files.isEmpty()) {
            showMessage(tr("No .gguf files were found in %1.").arg(dir), true);
            emit folderScanned(dir, files);
            return;
        }
        emit folderScanned(dir, files);
        addFiles(files);
    });
}

void ModelsPage::removeSelected()
{
    const QString path = selectedPath();
    if (path.isEmpty())
        return;
    context_.storeWorker().post([p = path.toStdString()](Store& store) { store.removeModel(p); },
                                tr("the model library"), this, [this, path] {
        showMessage(tr("Removed %1 from the library (the file itself is kept).").arg(QFileInfo(path).fileName()), false);
        emit context_.modelLibraryChanged();
    });
}

void ModelsPage::showDetails()
{
    const QString path = selectedPath();
    if (path.isEmpty())
        return;
    inspectInBackground(path, true, [this](const std::optional<ModelFacts>& facts, const QString& error) {
        if (!facts) {
            showMessage(error, true);
            return;
        }
        auto* dialog = new ModelDetailsDialog(*facts, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
}

void ModelsPage::inspectInBackground(const QString& path, bool withDetails,
                                     std::function<void(const std::optional<ModelFacts>&, const QString&)> done)
{
    struct Outcome {
        std::optional<ModelFacts> facts;
        QString error;
    };
    runInBackground<Outcome>(
        this,
        [path, withDetails] {
            Outcome o;
            try {
                o.facts = inspectGguf(path, withDetails);
            } catch (const std::exception& e) {
                o.error = QString::fromStdString(e.what());
            }
            return o;
        },
        [done](Outcome o) { done(o.facts, o.error); });
}

void ModelsPage::selectPath(const QString& path)
{
    const int row = model_->rowOfPath(path);
    if (row >= 0)
        table_->selectRow(row);
}

QString ModelsPage::selectedPath() const
{
    const QModelIndexList rows = table_->selectionModel() ? table_->selectionModel()->selectedRows() : QModelIndexList();
    if (rows.isEmpty())
        return {};
    return rows.front().data(ModelLibraryModel::PathRole).toString();
}

void ModelsPage::onSelectionChanged()
{
    facts_.reset();
    const QString path = selectedPath();
    updateButtons();
    if (path.isEmpty()) {
        selectedName_->setText(tr("Select a model in the library."));
        memory_->clear();
        fit_->clear();
        fit_->setStyleSheet(QString());
        return;
    }
    selectedName_->setText(QStringLiteral("<b>%1</b><br><span>%2</span>")
                               .arg(model_->data(table_->selectionModel()->selectedRows().front(), Qt::DisplayRole)
                                        .toString()
                                        .toHtmlEscaped(),
                                    QDir::toNativeSeparators(path).toHtmlEscaped()));
    memory_->setText(tr("Reading the file…"));
    const quint64 generation = ++inspectGeneration_;
    inspectInBackground(path, false,
                        [this, generation](const std::optional<ModelFacts>& facts, const QString& error) {
                            if (generation != inspectGeneration_)
                                return; // the selection moved on meanwhile
                            facts_ = facts;
                            if (!facts_) {
                                memory_->setText(error);
                                fit_->clear();
                                return;
                            }
                            updateEstimate();
                        });
}

void ModelsPage::updateEstimate()
{
    if (!facts_)
        return;
    uint64_t available = availableSystemMemory();
    QString where = tr("free RAM");
    const bool gpu = context_.settings().backend() != BackendChoice::Cpu;
    if (gpu) {
        const auto devices = context_.gpuDevices(context_.settings().backend() == BackendChoice::Vulkan);
        if (!devices.empty()) {
            available = devices.front().freeBytes ? devices.front().freeBytes : devices.front().deviceLocalBytes;
            where = tr("memory on %1").arg(devices.front().name);
        }
    }
    const MemoryEstimate e = estimateMemory(*facts_, contextSize_->value(), available);
    const int ctx = contextSize_->value() > 0 ? contextSize_->value() : facts_->contextLength;
    memory_->setText(tr("Needs %1 (weights %2 + KV cache %3 for %4 tokens + working memory %5); %6: %7")
                         .arg(formatBytes(e.total()), formatBytes(e.weights), formatBytes(e.kvCache))
                         .arg(ctx)
                         .arg(formatBytes(e.overhead), where,
                              e.available ? formatBytes(e.available) : tr("unknown")));
    QString text, color;
    switch (e.fit) {
    case MemoryFit::Fits: text = tr("Fits"); color = QStringLiteral("#1e8e3e"); break;
    case MemoryFit::Tight: text = tr("Tight"); color = QStringLiteral("#b06000"); break;
    case MemoryFit::WontFit: text = tr("Won't fit"); color = QStringLiteral("#c5221f"); break;
    case MemoryFit::Unknown: text = tr("Unknown"); color = QStringLiteral("#5f6368"); break;
    }
    fit_->setText(text);
    fit_->setStyleSheet(QStringLiteral("QLabel { background: %1; color: white; border-radius: 10px; "
                                       "padding: 3px 12px; font-weight: 600; }").arg(color));
}

void ModelsPage::updateButtons()
{
    const ModelHost& host = context_.host();
    const bool loading = host.state() == ModelHost::State::Loading;
    const bool hasSelection = !selectedPath().isEmpty();
    load_->setEnabled(hasSelection && !loading);
    unload_->setEnabled(host.isLoaded() && !loading);
    remove_->setEnabled(hasSelection);
    details_->setEnabled(hasSelection);
    cancel_->setVisible(loading);
    progress_->setVisible(loading);
    if (loading)
        progress_->setValue(0);
}

void ModelsPage::loadSelected()
{
    const QString path = selectedPath();
    if (path.isEmpty())
        return;
    message_->hide();
    context_.host().load(makeLoadRequest(context_, path, contextSize_->value()));
}

void ModelsPage::showMessage(const QString& text, bool error)
{
    message_->setText(text);
    message_->setStyleSheet(error ? QStringLiteral("QLabel { color: #c5221f; }") : QString());
    message_->setVisible(!text.isEmpty());
}

} // namespace tenfold::ui
