#include "server/server_page.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "server/server_cluster_box.h"
#include "server/server_request_model.h"
#include "server/throughput_chart.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QClipboard>
#include <QTableWidget>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHostAddress>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>

namespace tenfold::ui {

namespace {

// The key a client sends for a key-file line: tenfold-server reads "LABEL:KEY" as a labelled key.
QString bearerToken(const QString& keyLine)
{
    const qsizetype colon = keyLine.indexOf(QLatin1Char(':'));
    return colon < 0 ? keyLine.trimmed() : keyLine.mid(colon + 1).trimmed();
}

QString figure(double v)
{
    return v < 0 ? QStringLiteral("–") : QLocale().toString(qint64(std::llround(v)));
}

} // namespace

ServerPage::ServerPage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    process_ = new ServerProcess(this);
    monitor_ = new ServerMonitor(this);
    requests_ = new ServerRequestModel(this);

    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(28, 24, 28, 24);
    outer->setSpacing(14);
    auto* heading = new QLabel(tr("Server"), this);
    heading->setObjectName(QStringLiteral("pageTitle"));
    outer->addWidget(heading);
    auto* intro = new QLabel(tr("Serve a model to other programs over an OpenAI-compatible HTTP API. "
                                "Requests are recorded in the usage ledger."), this);
    intro->setObjectName(QStringLiteral("mutedLabel"));
    intro->setWordWrap(true);
    outer->addWidget(intro);

    auto* top = new QHBoxLayout;
    top->setSpacing(14);

    // Settings, in tab order.
    auto* settings = new QGroupBox(tr("Settings"), this);
    auto* form = new QFormLayout(settings);
    form->setHorizontalSpacing(14);
    form->setVerticalSpacing(8);
    auto* modelRow = new QHBoxLayout;
    model_ = new QComboBox(settings);
    model_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    model_->setMinimumContentsLength(18);
    model_->setAccessibleName(tr("Model to serve"));
    browse_ = new QPushButton(tr("B&rowse…"), settings);
    browse_->setAccessibleName(tr("Choose a model file"));
    modelRow->addWidget(model_, 1);
    modelRow->addWidget(browse_);
    form->addRow(tr("&Model:"), modelRow);
    if (auto* label = qobject_cast<QLabel*>(form->labelForField(modelRow)))
        label->setBuddy(model_);

    host_ = new QLineEdit(QStringLiteral("127.0.0.1"), settings);
    host_->setAccessibleName(tr("Host address"));
    host_->setToolTip(tr("127.0.0.1 accepts connections from this computer only; 0.0.0.0 from every network."));
    form->addRow(tr("&Host:"), host_);
    hostWarning_ = new QLabel(settings);
    hostWarning_->setWordWrap(true);
    hostWarning_->setObjectName(QStringLiteral("warningLabel"));
    hostWarning_->hide();
    form->addRow(QString(), hostWarning_);

    port_ = new QSpinBox(settings);
    port_->setRange(0, 65535);
    port_->setSpecialValueText(tr("Any free port"));
    port_->setValue(0);
    port_->setAccessibleName(tr("Port"));
    form->addRow(tr("&Port:"), port_);

    keys_ = new QListWidget(settings);
    keys_->setMaximumHeight(72);
    keys_->setAccessibleName(tr("API keys"));
    keys_->setToolTip(tr("Clients send one of these as “Authorization: Bearer KEY”. Double-click a key to edit "
                         "it; write LABEL:KEY to name the client in the usage ledger."));
    form->addRow(tr("API &keys:"), keys_);
    auto* keyButtons = new QHBoxLayout;
    generateKey_ = new QPushButton(tr("&Generate key"), settings);
    copyKey_ = new QPushButton(tr("Cop&y key"), settings);
    removeKey_ = new QPushButton(tr("Remo&ve key"), settings);
    for (QPushButton* b : {generateKey_, copyKey_, removeKey_})
        keyButtons->addWidget(b);
    keyButtons->addStretch(1);
    form->addRow(QString(), keyButtons);

    parallel_ = new QSpinBox(settings);
    parallel_->setRange(0, 64);
    parallel_->setSpecialValueText(tr("Server default"));
    parallel_->setAccessibleName(tr("Parallel requests"));
    form->addRow(tr("Parallel re&quests:"), parallel_);
    context_size_ = new QSpinBox(settings);
    context_size_->setRange(0, 131072);
    context_size_->setSingleStep(256);
    context_size_->setSpecialValueText(tr("Server default"));
    context_size_->setAccessibleName(tr("Context length"));
    form->addRow(tr("&Context length:"), context_size_);
    threads_ = new QSpinBox(settings);
    threads_->setRange(0, std::max(1, QThread::idealThreadCount()));
    threads_->setSpecialValueText(tr("All cores (%1)").arg(QThread::idealThreadCount()));
    threads_->setAccessibleName(tr("CPU threads"));
    form->addRow(tr("&Threads:"), threads_);
    device_ = new QComboBox(settings);
    device_->addItem(tr("CPU"), QStringLiteral("cpu"));
    device_->addItem(tr("Vulkan GPU"), QStringLiteral("vulkan"));
    // tenfold-server runs on the CPU unless told otherwise; Vulkan when the app is set to it.
    device_->setCurrentIndex(context_.settings().backend() == BackendChoice::Vulkan ? 1 : 0);
    device_->setAccessibleName(tr("Compute device"));
    form->addRow(tr("&Device:"), device_);
    profile_ = new QCheckBox(tr("T&ime every operation (Profiler page)"), settings);
    profile_->setToolTip(tr("The server times each forward pass's operations and the Profiler page shows them live; "
                            "costs a little speed"));
    form->addRow(QString(), profile_);
    // Several processes under Open MPI (tenfold-worker serve): replicas for more requests at
    // once, or the layers split over machines for a model that does not fit one.
    mpiRanks_ = new QSpinBox(settings);
    mpiRanks_->setRange(1, 256);
    mpiRanks_->setSpecialValueText(tr("One process"));
    mpiRanks_->setAccessibleName(tr("MPI processes"));
    mpiRanks_->setToolTip(tr("Run the server as an Open MPI job of this many processes (mpirun). With replicas, "
                             "the first process answers HTTP and each other one holds the whole model; with a "
                             "pipeline, every process holds some of the layers."));
    form->addRow(tr("MPI proc&esses:"), mpiRanks_);
    mpiMode_ = new QComboBox(settings);
    mpiMode_->addItem(tr("Whole-model replicas (data parallel)"), QStringLiteral("replicas"));
    mpiMode_->addItem(tr("Layers split across processes (pipeline)"), QStringLiteral("pipeline"));
    mpiMode_->setAccessibleName(tr("How the MPI processes share the work"));
    form->addRow(tr("MPI sp&lit:"), mpiMode_);
    mpiHostFile_ = new QLineEdit(settings);
    mpiHostFile_->setPlaceholderText(tr("This computer only"));
    mpiHostFile_->setAccessibleName(tr("Open MPI host file"));
    mpiHostFile_->setToolTip(tr("An Open MPI host file naming the machines (reached over ssh); empty runs every "
                                "process on this computer."));
    form->addRow(tr("MPI host &file:"), mpiHostFile_);
    settings->setMaximumWidth(520);
    top->addWidget(settings, 1);
    settingsWidgets_ = {model_, browse_, host_, port_, keys_, generateKey_, removeKey_, parallel_, context_size_,
                        threads_, device_, profile_, mpiRanks_, mpiMode_, mpiHostFile_};

    // State, address and totals.
    auto* statusBox = new QGroupBox(tr("Status"), this);
    auto* statusLayout = new QVBoxLayout(statusBox);
    statusLayout->setSpacing(8);
    auto* controls = new QHBoxLayout;
    start_ = new QPushButton(tr("&Start"), statusBox);
    start_->setDefault(true);
    start_->setAccessibleName(tr("Start the server"));
    stop_ = new QPushButton(tr("St&op"), statusBox);
    stop_->setAccessibleName(tr("Stop the server"));
    controls->addWidget(start_);
    controls->addWidget(stop_);
    controls->addStretch(1);
    statusLayout->addLayout(controls);
    state_ = new QLabel(statusBox);
    state_->setWordWrap(true);
    state_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    state_->setAccessibleName(tr("Server state"));
    statusLayout->addWidget(state_);
    auto* urlRow = new QHBoxLayout;
    url_ = new QLineEdit(statusBox);
    url_->setReadOnly(true);
    url_->setPlaceholderText(tr("Not listening"));
    url_->setAccessibleName(tr("Server address"));
    copyUrl_ = new QPushButton(tr("Copy &URL"), statusBox);
    urlRow->addWidget(url_, 1);
    urlRow->addWidget(copyUrl_);
    statusLayout->addLayout(urlRow);
    curl_ = new QPlainTextEdit(statusBox);
    curl_->setReadOnly(true);
    curl_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    curl_->setMaximumHeight(110);
    curl_->setLineWrapMode(QPlainTextEdit::NoWrap);
    curl_->setAccessibleName(tr("Example request with curl"));
    curl_->setTabChangesFocus(true);
    statusLayout->addWidget(curl_);
    auto* curlRow = new QHBoxLayout;
    copyCurl_ = new QPushButton(tr("Copy e&xample"), statusBox);
    curlRow->addWidget(copyCurl_);
    curlRow->addStretch(1);
    statusLayout->addLayout(curlRow);
    totals_ = new QLabel(statusBox);
    totals_->setWordWrap(true);
    totals_->setAccessibleName(tr("Server totals"));
    statusLayout->addWidget(totals_);
    statusLayout->addStretch(1);
    top->addWidget(statusBox, 1);
    outer->addLayout(top);

    // The ranks of an MPI server (tenfold-worker serve); hidden for a single process.
    cluster_ = new ServerClusterBox(this);
    outer->addWidget(cluster_);

    // Live requests and the throughput chart.
    auto* split = new QSplitter(Qt::Horizontal, this);
    table_ = new QTableView(split);
    table_->setModel(requests_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setAlternatingRowColors(true);
    table_->setShowGrid(false);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setMinimumSectionSize(72); // readable headers while the list is empty
    table_->setWordWrap(false);
    table_->setAccessibleName(tr("Requests in progress and recently finished"));
    chart_ = new ThroughputChart(split);
    split->addWidget(table_);
    split->addWidget(chart_);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    outer->addWidget(split, 1);

    // Tab order follows the reading order: settings top to bottom, then the status column.
    QWidget* order[] = {model_, browse_, host_, port_, keys_, generateKey_, copyKey_, removeKey_, parallel_,
                        context_size_, threads_, device_, start_, stop_, url_, copyUrl_, curl_, copyCurl_,
                        cluster_->table(), table_};
    for (size_t i = 0; i + 1 < std::size(order); ++i)
        setTabOrder(order[i], order[i + 1]);

    connect(browse_, &QPushButton::clicked, this, &ServerPage::browseForModel);
    connect(model_, &QComboBox::currentIndexChanged, this, &ServerPage::updateControls);
    connect(host_, &QLineEdit::textChanged, this, &ServerPage::updateControls);
    connect(mpiRanks_, &QSpinBox::valueChanged, this, &ServerPage::updateControls);
    connect(generateKey_, &QPushButton::clicked, this, &ServerPage::generateKey);
    connect(copyKey_, &QPushButton::clicked, this, &ServerPage::copySelectedKey);
    connect(removeKey_, &QPushButton::clicked, this, &ServerPage::removeSelectedKey);
    connect(keys_, &QListWidget::itemChanged, this, &ServerPage::updateControls);
    connect(keys_, &QListWidget::currentRowChanged, this, &ServerPage::updateControls);
    connect(start_, &QPushButton::clicked, this, &ServerPage::startServer);
    connect(stop_, &QPushButton::clicked, this, &ServerPage::stopServer);
    connect(copyUrl_, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(url_->text()); });
    connect(copyCurl_, &QPushButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(curl_->toPlainText()); });

    connect(process_, &ServerProcess::stateChanged, this, &ServerPage::showProcessState);
    connect(process_, &ServerProcess::listening, this, [this](const QUrl& url) {
        requests_->clear();
        chart_->clear();
        cluster_->clear();
        const QStringList keys = apiKeys();
        monitor_->start(pollUrl(url), keys.isEmpty() ? QString() : bearerToken(keys.front()), pollIntervalMs_);
    });
    connect(monitor_, &ServerMonitor::statusUpdated, requests_, &ServerRequestModel::setStatus);
    connect(monitor_, &ServerMonitor::statusUpdated, cluster_, &ServerClusterBox::setStatus);
    connect(monitor_, &ServerMonitor::metricsUpdated, this, &ServerPage::showMetrics);
    connect(monitor_, &ServerMonitor::throughputSampled, chart_, &ThroughputChart::addPoint);
    // The Profiler page draws a --profile server's passes as it draws a chat reply's.
    connect(monitor_, &ServerMonitor::profileSampled, &context_, &AppContext::serverProfileSampled);

    connect(&context_, &AppContext::modelLibraryChanged, this, &ServerPage::reloadModels);
    connect(&context_.host(), &ModelHost::loaded, this, [this](const LoadedModel& m) {
        if (!process_->isRunning())
            setModelPath(m.path);
    });

    // The choices of the last start; a fresh data folder keeps the defaults above.
    const QVariantMap saved = context_.settings().serverChoices();
    host_->setText(saved.value(QStringLiteral("host"), host_->text()).toString());
    port_->setValue(saved.value(QStringLiteral("port"), port_->value()).toInt());
    parallel_->setValue(saved.value(QStringLiteral("parallel"), parallel_->value()).toInt());
    context_size_->setValue(saved.value(QStringLiteral("context"), context_size_->value()).toInt());
    threads_->setValue(saved.value(QStringLiteral("threads"), threads_->value()).toInt());
    if (const int i = device_->findData(saved.value(QStringLiteral("device")).toString()); i >= 0)
        device_->setCurrentIndex(i);
    profile_->setChecked(saved.value(QStringLiteral("profile"), false).toBool());
    mpiRanks_->setValue(saved.value(QStringLiteral("mpi_ranks"), 1).toInt());
    if (const int i = mpiMode_->findData(saved.value(QStringLiteral("mpi_mode")).toString()); i >= 0)
        mpiMode_->setCurrentIndex(i);
    mpiHostFile_->setText(saved.value(QStringLiteral("mpi_host_file")).toString());

    reloadModels();
    showProcessState();
    showMetrics(ServerMetrics{});
}

void ServerPage::reloadModels()
{
    context_.storeWorker().call<std::vector<ModelRecord>>(
        this, [](Store& store) { return store.models(); },
        [this](std::vector<ModelRecord> records) {
            const QString current = modelPath();
            const QSignalBlocker block(model_);
            // Files chosen with Browse… stay listed even though the library does not hold them.
            QStringList extra;
            for (int i = 0; i < model_->count(); ++i)
                if (model_->itemData(i, Qt::UserRole + 1).toBool())
                    extra << model_->itemData(i).toString();
            model_->clear();
            for (const ModelRecord& r : records) {
                const QString path = QString::fromStdString(r.path);
                model_->addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(r.name), QFileInfo(path).fileName()), path);
                model_->setItemData(model_->count() - 1, path, Qt::ToolTipRole);
            }
            for (const QString& path : extra)
                if (model_->findData(path) < 0) {
                    model_->addItem(QFileInfo(path).fileName(), path);
                    model_->setItemData(model_->count() - 1, true, Qt::UserRole + 1);
                    model_->setItemData(model_->count() - 1, path, Qt::ToolTipRole);
                }
            // Keep the choice; otherwise offer the model the app has loaded.
            QString want = current;
            if (want.isEmpty() && context_.host().loadedModel())
                want = context_.host().loadedModel()->path;
            if (!want.isEmpty())
                setModelPath(want);
            updateControls();
        },
        tr("the model library"));
}

void ServerPage::setModelPath(const QString& path)
{
    int index = model_->findData(path);
    if (index < 0) {
        model_->addItem(QFileInfo(path).fileName(), path);
        index = model_->count() - 1;
        model_->setItemData(index, true, Qt::UserRole + 1);
        model_->setItemData(index, path, Qt::ToolTipRole);
    }
    model_->setCurrentIndex(index);
    updateControls();
}

QString ServerPage::modelPath() const
{
    return model_->currentData().toString();
}

void ServerPage::browseForModel()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Choose a model to serve"), QString(),
                                                      tr("GGUF models (*.gguf);;All files (*)"));
    if (!path.isEmpty())
        setModelPath(path);
}

QStringList ServerPage::apiKeys() const
{
    QStringList keys;
    for (int i = 0; i < keys_->count(); ++i) {
        const QString key = keys_->item(i)->text().trimmed();
        if (!key.isEmpty())
            keys << key;
    }
    return keys;
}

ServerOptions ServerPage::options() const
{
    ServerOptions o;
    o.modelPath = modelPath();
    o.host = host_->text().trimmed();
    o.port = port_->value();
    o.apiKeys = apiKeys();
    o.parallel = parallel_->value();
    o.contextSize = context_size_->value();
    o.threads = threads_->value();
    o.device = device_->currentData().toString();
    o.profile = profile_->isChecked();
    o.mpiRanks = mpiRanks_->value();
    o.mpiPipeline = mpiMode_->currentData().toString() == QLatin1String("pipeline");
    o.mpiHostFile = mpiHostFile_->text().trimmed();
    // The server records its requests in the same usage ledger as the app.
    o.dataDir = context_.dataDir();
    return o;
}

void ServerPage::startServer()
{
    if (!start_->isEnabled())
        return;
    const ServerOptions o = options();
    context_.settings().setServerChoices({{QStringLiteral("host"), o.host},
                                          {QStringLiteral("port"), o.port},
                                          {QStringLiteral("parallel"), o.parallel},
                                          {QStringLiteral("context"), o.contextSize},
                                          {QStringLiteral("threads"), o.threads},
                                          {QStringLiteral("device"), o.device},
                                          {QStringLiteral("profile"), o.profile},
                                          {QStringLiteral("mpi_ranks"), o.mpiRanks},
                                          {QStringLiteral("mpi_mode"), mpiMode_->currentData().toString()},
                                          {QStringLiteral("mpi_host_file"), o.mpiHostFile}});
    process_->start(o);
}

void ServerPage::stopServer()
{
    monitor_->stop();
    process_->stop();
}

void ServerPage::generateKey()
{
    auto* item = new QListWidgetItem(ServerProcess::generateApiKey(), keys_);
    item->setFlags(item->flags() | Qt::ItemIsEditable);
    keys_->setCurrentItem(item);
    updateControls();
}

void ServerPage::copySelectedKey()
{
    if (QListWidgetItem* item = keys_->currentItem())
        QGuiApplication::clipboard()->setText(item->text());
}

void ServerPage::removeSelectedKey()
{
    delete keys_->currentItem();
    updateControls();
}

void ServerPage::updateHostWarning()
{
    const QString host = host_->text().trimmed();
    if (host.isEmpty()) {
        hostWarning_->setText(tr("Enter the address to listen on, such as 127.0.0.1."));
        hostWarning_->show();
    } else if (!ServerProcess::isLoopbackHost(host)) {
        hostWarning_->setText(apiKeys().isEmpty()
                                  ? tr("Other computers can reach %1, so the server needs an API key: generate one "
                                       "before starting.").arg(host)
                                  : tr("Other computers can reach %1. Requests must carry one of the API keys; "
                                       "traffic is not encrypted.").arg(host));
        hostWarning_->show();
    } else {
        hostWarning_->hide();
    }
}

void ServerPage::updateControls()
{
    updateHostWarning();
    const bool running = process_->isRunning();
    const QString host = host_->text().trimmed();
    const bool hostOk = !host.isEmpty() && (ServerProcess::isLoopbackHost(host) || !apiKeys().isEmpty());
    start_->setEnabled(!running && !modelPath().isEmpty() && hostOk);
    stop_->setEnabled(running && process_->state() != ServerProcess::State::Stopping);
    for (QWidget* w : settingsWidgets_)
        w->setEnabled(!running);
    // An MPI job computes on every process's CPU; its split and hosts matter only with several.
    const bool mpi = mpiRanks_->value() > 1;
    mpiMode_->setEnabled(!running && mpi);
    mpiHostFile_->setEnabled(!running && mpi);
    device_->setEnabled(!running && !mpi);
    copyKey_->setEnabled(keys_->currentItem() != nullptr);
    removeKey_->setEnabled(!running && keys_->currentItem() != nullptr);
    copyUrl_->setEnabled(!url_->text().isEmpty());
    updateCurlExample();
}

void ServerPage::showProcessState()
{
    const QString model = QFileInfo(process_->options().modelPath).fileName();
    switch (process_->state()) {
    case ServerProcess::State::Stopped:
        state_->setText(tr("Stopped."));
        url_->clear();
        break;
    case ServerProcess::State::Starting:
        state_->setText(tr("Starting tenfold-server with %1…").arg(model));
        url_->clear();
        break;
    case ServerProcess::State::Listening:
        state_->setText(tr("Serving %1 at %2").arg(model, process_->url().toString()));
        url_->setText(process_->url().toString());
        break;
    case ServerProcess::State::Stopping:
        state_->setText(tr("Stopping…"));
        break;
    case ServerProcess::State::Failed:
        monitor_->stop();
        state_->setText(tr("The server stopped with an error:\n%1").arg(process_->errorMessage()));
        url_->clear();
        break;
    }
    if (process_->state() == ServerProcess::State::Stopped)
        monitor_->stop();
    updateControls();
}

void ServerPage::showMetrics(const ServerMetrics& m)
{
    totals_->setText(tr("Requests: %1 (rejected %2, cancelled %3, failed %4, answered from cache %5)\n"
                        "Tokens: %6 prompt, %7 generated\n"
                        "Queued: %8 · running: %9 · last batch: %10 · KV blocks: %11 of %12")
                         .arg(figure(m.requestsTotal), figure(m.requestsRejected), figure(m.requestsCancelled),
                              figure(m.requestsFailed), figure(m.responseCacheHits), figure(m.promptTokens),
                              figure(m.generatedTokens), figure(m.queueDepth), figure(m.running))
                         .arg(figure(m.lastBatchSize), figure(m.kvBlocksUsed), figure(m.kvBlocksTotal)));
}

void ServerPage::updateCurlExample()
{
    const QString base = url_->text().isEmpty() ? QStringLiteral("http://127.0.0.1:PORT") : url_->text();
    QString text = QStringLiteral("curl %1/v1/chat/completions \\\n  -H \"Content-Type: application/json\" \\\n").arg(base);
    // The key itself stays out of the snippet (screenshots, screen sharing): it is read from
    // the environment.
    if (!apiKeys().isEmpty())
        text += QStringLiteral("  -H \"Authorization: Bearer $TENFOLD_API_KEY\" \\\n");
    text += QStringLiteral("  -d '{\"messages\": [{\"role\": \"user\", \"content\": \"%1\"}],\n"
                           "       \"max_tokens\": 64}'")
                .arg(tr("Tell me a short story."));
    if (curl_->toPlainText() != text)
        curl_->setPlainText(text);
}

QUrl ServerPage::pollUrl(const QUrl& listening)
{
    QUrl url = listening;
    const QHostAddress host(url.host());
    if (host == QHostAddress::AnyIPv4 || host == QHostAddress(QStringLiteral("0.0.0.0")))
        url.setHost(QStringLiteral("127.0.0.1"));
    else if (host == QHostAddress::AnyIPv6 || host == QHostAddress(QStringLiteral("::")))
        url.setHost(QStringLiteral("::1"));
    return url;
}

} // namespace tenfold::ui
