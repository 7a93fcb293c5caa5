#include "models/discover_tab.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "session/model_facts.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace tenfold::ui {

namespace {

enum DownloadColumn { ColFile, ColState, ColProgress, ColSpeed, ColLeft };
constexpr int kChoiceRole = Qt::UserRole + 1;
constexpr int kIdRole = Qt::UserRole + 2;

QString fitText(HubFit fit)
{
    switch (fit) {
    case HubFit::Fits: return DiscoverTab::tr("Fits");
    case HubFit::Tight: return DiscoverTab::tr("Tight");
    case HubFit::WontFit: return DiscoverTab::tr("Won't fit");
    case HubFit::Unknown: break;
    }
    return DiscoverTab::tr("Unknown");
}

QColor fitColor(HubFit fit)
{
    switch (fit) {
    case HubFit::Fits: return QColor(0x1e, 0x8e, 0x3e);
    case HubFit::Tight: return QColor(0xb0, 0x60, 0x00);
    case HubFit::WontFit: return QColor(0xc5, 0x22, 0x1f);
    case HubFit::Unknown: break;
    }
    return QColor(0x5f, 0x63, 0x68);
}

QString stateText(const QString& state)
{
    if (state == QLatin1String("queued"))
        return DiscoverTab::tr("Queued");
    if (state == QLatin1String("running"))
        return DiscoverTab::tr("Downloading");
    if (state == QLatin1String("paused"))
        return DiscoverTab::tr("Paused");
    if (state == QLatin1String("done"))
        return DiscoverTab::tr("Verified");
    if (state == QLatin1String("failed"))
        return DiscoverTab::tr("Failed");
    return state;
}

QString timeLeft(double seconds)
{
    if (seconds < 0)
        return QStringLiteral("—");
    const qint64 s = qint64(seconds + 0.5);
    if (s >= 3600)
        return DiscoverTab::tr("%1 h %2 min").arg(s / 3600).arg((s / 60) % 60);
    if (s >= 60)
        return DiscoverTab::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return DiscoverTab::tr("%1 s").arg(s);
}

} // namespace

DiscoverTab::DiscoverTab(AppContext& context, QWidget* parent) : QWidget(parent)
{
    service_ = new HubService(context.dataDir(), context.settings().contextSize(), this);

    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(28, 20, 28, 20);
    outer->setSpacing(12);

    auto* searchRow = new QHBoxLayout;
    search_ = new QLineEdit(this);
    search_->setPlaceholderText(tr("Search Hugging Face for GGUF models, e.g. “qwen2.5 0.5b”"));
    search_->setClearButtonEnabled(true);
    searchButton_ = new QPushButton(tr("&Search"), this);
    searchButton_->setDefault(true);
    searchRow->addWidget(search_, 1);
    searchRow->addWidget(searchButton_);
    outer->addLayout(searchRow);
    auto* source = new QLabel(tr("Source: %1").arg(service_->endpoint()), this);
    source->setObjectName(QStringLiteral("hint"));
    outer->addWidget(source);

    auto* split = new QSplitter(Qt::Horizontal, this);
    results_ = new QTreeWidget(split);
    results_->setHeaderLabels({tr("Repository"), tr("Downloads"), tr("Likes"), tr("Updated")});
    results_->setRootIsDecorated(false);
    results_->setAlternatingRowColors(true);
    results_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    results_->header()->setStretchLastSection(false);
    auto* filesPanel = new QWidget(split);
    auto* filesLayout = new QVBoxLayout(filesPanel);
    filesLayout->setContentsMargins(0, 0, 0, 0);
    filesHeading_ = new QLabel(tr("Pick a repository to see its GGUF files."), filesPanel);
    filesHeading_->setWordWrap(true);
    filesLayout->addWidget(filesHeading_);
    files_ = new QTreeWidget(filesPanel);
    files_->setHeaderLabels({tr("Quantization / file"), tr("Size"), tr("Memory")});
    files_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    files_->header()->setStretchLastSection(false);
    filesLayout->addWidget(files_, 1);
    download_ = new QPushButton(tr("&Download"), filesPanel);
    download_->setEnabled(false);
    auto* downloadRow = new QHBoxLayout;
    downloadRow->addStretch(1);
    downloadRow->addWidget(download_);
    filesLayout->addLayout(downloadRow);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    outer->addWidget(split, 3);

    auto* downloadsHeading = new QLabel(tr("Downloads (into %1)").arg(service_->modelsDir()), this);
    downloadsHeading->setWordWrap(true);
    outer->addWidget(downloadsHeading);
    downloads_ = new QTreeWidget(this);
    downloads_->setHeaderLabels({tr("File"), tr("Status"), tr("Progress"), tr("Speed"), tr("Time left")});
    downloads_->setRootIsDecorated(false);
    downloads_->header()->setSectionResizeMode(ColFile, QHeaderView::Stretch);
    downloads_->header()->setStretchLastSection(false);
    downloads_->setColumnWidth(ColProgress, 200);
    outer->addWidget(downloads_, 2);
    auto* actions = new QHBoxLayout;
    status_ = new QLabel(this);
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    actions->addWidget(status_, 1);
    pause_ = new QPushButton(tr("&Pause"), this);
    resume_ = new QPushButton(tr("&Resume"), this);
    remove_ = new QPushButton(tr("Re&move"), this);
    for (QPushButton* b : {pause_, resume_, remove_}) {
        b->setEnabled(false);
        actions->addWidget(b);
    }
    outer->addLayout(actions);

    connect(search_, &QLineEdit::returnPressed, this, &DiscoverTab::startSearch);
    connect(searchButton_, &QPushButton::clicked, this, &DiscoverTab::startSearch);
    connect(results_, &QTreeWidget::itemSelectionChanged, this, &DiscoverTab::onResultSelected);
    connect(files_, &QTreeWidget::itemSelectionChanged, this, &DiscoverTab::onFileSelected);
    connect(files_, &QTreeWidget::itemActivated, this, [this] {
        if (download_->isEnabled())
            startDownload();
    });
    connect(download_, &QPushButton::clicked, this, &DiscoverTab::startDownload);
    connect(downloads_, &QTreeWidget::itemSelectionChanged, this, &DiscoverTab::onDownloadSelected);
    connect(pause_, &QPushButton::clicked, this, [this] { service_->pause(selectedDownloadId()); });
    connect(resume_, &QPushButton::clicked, this, [this] { service_->resume(selectedDownloadId()); });
    connect(remove_, &QPushButton::clicked, this, [this] { service_->remove(selectedDownloadId()); });

    connect(service_, &HubService::searchFinished, this, &DiscoverTab::showResults);
    connect(service_, &HubService::listingFinished, this, &DiscoverTab::showChoices);
    connect(service_, &HubService::requestFailed, this, [this](const QString& what, const QString& message) {
        searchButton_->setEnabled(true);
        showStatus(tr("%1 failed: %2").arg(what, message), true);
    });
    connect(service_, &HubService::downloadsListed, this, [this](const QVector<HubDownloadInfo>& all) {
        for (const HubDownloadInfo& d : all)
            showDownload(d);
    });
    connect(service_, &HubService::downloadChanged, this, &DiscoverTab::showDownload);
    connect(service_, &HubService::modelDownloaded, this, [this](const QString& path) {
        showStatus(tr("Downloaded and verified %1; it is in the library.").arg(QFileInfo(path).fileName()), false);
        emit modelDownloaded(path);
    });
    service_->refreshDownloads();
}

void DiscoverTab::showStatus(const QString& text, bool error)
{
    status_->setText(text);
    status_->setStyleSheet(error ? QStringLiteral("color: #c5221f;") : QString());
}

void DiscoverTab::startSearch()
{
    const QString query = search_->text().trimmed();
    if (query.isEmpty())
        return;
    searchButton_->setEnabled(false);
    showStatus(tr("Searching for “%1”…").arg(query), false);
    service_->search(query);
}

void DiscoverTab::showResults(const QString& query, const QVector<HubModelInfo>& models)
{
    searchButton_->setEnabled(true);
    results_->clear();
    const QLocale locale;
    for (const HubModelInfo& m : models) {
        auto* item = new QTreeWidgetItem(results_);
        item->setText(0, m.gated ? tr("%1 (needs a token)").arg(m.id) : m.id);
        item->setData(0, Qt::UserRole, m.id);
        item->setText(1, locale.toString(m.downloads));
        item->setText(2, locale.toString(m.likes));
        item->setText(3, m.lastModified);
        for (int c = 1; c <= 2; ++c)
            item->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
    }
    for (int c = 1; c < results_->columnCount(); ++c)
        results_->resizeColumnToContents(c);
    showStatus(models.isEmpty() ? tr("No GGUF repositories match “%1”.").arg(query)
                                : tr("%n repositories match “%1”.", nullptr, int(models.size())).arg(query),
               false);
}

void DiscoverTab::onResultSelected()
{
    const auto selected = results_->selectedItems();
    if (selected.isEmpty())
        return;
    const QString repo = selected.first()->data(0, Qt::UserRole).toString();
    shownRepo_ = repo;
    files_->clear();
    download_->setEnabled(false);
    filesHeading_->setText(tr("Reading the files of %1…").arg(repo));
    service_->listFiles(repo);
}

void DiscoverTab::showChoices(const QString& repo, const QVector<HubFileChoice>& choices)
{
    if (repo != shownRepo_)
        return; // an older answer after the user moved on
    choices_ = choices;
    files_->clear();
    filesHeading_->setText(choices.isEmpty() ? tr("%1 has no GGUF files.").arg(repo)
                                             : tr("GGUF files of %1, by quantization:").arg(repo));
    QHash<QString, QTreeWidgetItem*> groups;
    for (int i = 0; i < choices.size(); ++i) {
        const HubFileChoice& c = choices[i];
        const QString quant = c.quant.isEmpty() ? tr("Other") : c.quant;
        QTreeWidgetItem* group = groups.value(quant);
        if (!group) {
            group = new QTreeWidgetItem(files_);
            group->setText(0, quant);
            group->setFlags(group->flags() & ~Qt::ItemIsSelectable);
            QFont bold = group->font(0);
            bold.setBold(true);
            group->setFont(0, bold);
            groups.insert(quant, group);
        }
        auto* item = new QTreeWidgetItem(group);
        item->setText(0, c.parts > 1 ? tr("%1 (%n parts)", nullptr, c.parts).arg(c.name) : c.name);
        item->setData(0, kChoiceRole, i);
        item->setText(1, formatBytes(c.bytes));
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        item->setText(2, c.complete ? fitText(c.fit) : tr("Parts missing"));
        item->setForeground(2, fitColor(c.complete ? c.fit : HubFit::WontFit));
        item->setToolTip(2, tr("Weights only at the chosen context; the KV cache is added once the file is "
                               "downloaded and its header can be read."));
    }
    files_->expandAll();
    files_->resizeColumnToContents(1);
    files_->resizeColumnToContents(2);
}

void DiscoverTab::onFileSelected()
{
    const auto selected = files_->selectedItems();
    bool ok = false;
    if (!selected.isEmpty()) {
        const QVariant index = selected.first()->data(0, kChoiceRole);
        ok = index.isValid() && choices_.value(index.toInt()).complete;
    }
    download_->setEnabled(ok);
}

void DiscoverTab::startDownload()
{
    const auto selected = files_->selectedItems();
    if (selected.isEmpty())
        return;
    const QVariant index = selected.first()->data(0, kChoiceRole);
    if (!index.isValid())
        return;
    const HubFileChoice choice = choices_.value(index.toInt());
    showStatus(tr("Queued %1.").arg(choice.name), false);
    service_->download(choice);
}

void DiscoverTab::showDownload(const HubDownloadInfo& d)
{
    QTreeWidgetItem* item = downloadRows_.value(d.id, nullptr);
    if (d.state == QLatin1String("removed")) {
        downloadRows_.remove(d.id);
        downloadStates_.remove(d.id);
        delete item;
        onDownloadSelected();
        return;
    }
    if (!item) {
        item = new QTreeWidgetItem(downloads_);
        item->setData(0, kIdRole, d.id);
        item->setText(ColFile, d.repo + QLatin1Char('/') + d.file);
        auto* bar = new QProgressBar(downloads_);
        bar->setRange(0, 1000);
        bar->setTextVisible(true);
        downloads_->setItemWidget(item, ColProgress, bar);
        downloadRows_.insert(d.id, item);
    }
    downloadStates_.insert(d.id, d.state);
    item->setText(ColState, stateText(d.state));
    item->setToolTip(ColState, d.error);
    if (d.state == QLatin1String("failed"))
        item->setForeground(ColState, QColor(0xc5, 0x22, 0x1f));
    else
        item->setForeground(ColState, downloads_->palette().text());
    if (auto* bar = qobject_cast<QProgressBar*>(downloads_->itemWidget(item, ColProgress))) {
        const double share = d.bytesTotal ? double(d.bytesDone) / double(d.bytesTotal) : 0.0;
        bar->setValue(int(share * 1000));
        bar->setFormat(tr("%1 of %2").arg(formatBytes(d.bytesDone), formatBytes(d.bytesTotal)));
    }
    const bool running = d.state == QLatin1String("running");
    item->setText(ColSpeed, running && d.bytesPerSecond > 0 ? tr("%1/s").arg(formatBytes(quint64(d.bytesPerSecond)))
                                                            : QString());
    item->setText(ColLeft, running ? timeLeft(d.secondsLeft) : QString());
    if (d.state == QLatin1String("failed"))
        showStatus(tr("%1 failed: %2").arg(d.file, d.error), true);
    if (downloads_->selectedItems().isEmpty() || downloads_->selectedItems().first() == item)
        downloads_->setCurrentItem(item);
    onDownloadSelected();
}

qint64 DiscoverTab::selectedDownloadId() const
{
    const auto selected = downloads_->selectedItems();
    return selected.isEmpty() ? 0 : selected.first()->data(0, kIdRole).toLongLong();
}

void DiscoverTab::onDownloadSelected()
{
    const qint64 id = selectedDownloadId();
    const QString state = downloadStates_.value(id);
    pause_->setEnabled(id && (state == QLatin1String("queued") || state == QLatin1String("running")));
    resume_->setEnabled(id && (state == QLatin1String("paused") || state == QLatin1String("failed")));
    remove_->setEnabled(id && state != QLatin1String("running") && !state.isEmpty());
}

} // namespace tenfold::ui
