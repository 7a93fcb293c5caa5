#pragma once
// Serve a model to other programs: starts tenfold-server (OpenAI-compatible HTTP API) as a child
// process on the loaded model or one from the library, shows where it listens, the requests it is
// working on, its throughput and totals, and stops it on request or when Tenfold quits.
#include "core/page.h"
#include "server/server_monitor.h"
#include "server/server_process.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace tenfold::ui {

class ServerClusterBox;
class ServerRequestModel;
class ThroughputChart;

class ServerPage : public Page {
    Q_OBJECT
public:
    ServerPage(AppContext& context, QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("server"); }
    QString title() const override { return tr("Server"); }
    IconKind icon() const override { return IconKind::Server; }

    // Selects `path` in the model list, adding it when the library does not hold it.
    void setModelPath(const QString& path);
    QString modelPath() const;
    ServerOptions options() const;
    void startServer();
    void stopServer();
    // How often the page asks the server for its status and metrics (1 s; tests poll faster to
    // see short requests in flight). Applies from the next start.
    void setPollInterval(int ms) { pollIntervalMs_ = ms; }

    ServerProcess* serverProcess() const { return process_; }
    ServerMonitor* monitor() const { return monitor_; }
    ServerRequestModel* requestModel() const { return requests_; }
    ThroughputChart* chart() const { return chart_; }
    QComboBox* modelBox() const { return model_; }
    QLineEdit* hostEdit() const { return host_; }
    QLabel* hostWarning() const { return hostWarning_; }
    QSpinBox* portBox() const { return port_; }
    QSpinBox* parallelBox() const { return parallel_; }
    QComboBox* deviceBox() const { return device_; }
    QCheckBox* profileBox() const { return profile_; }
    QSpinBox* mpiRanksBox() const { return mpiRanks_; }
    QComboBox* mpiModeBox() const { return mpiMode_; }
    QLineEdit* mpiHostFileEdit() const { return mpiHostFile_; }
    QListWidget* keyList() const { return keys_; }
    QPushButton* generateKeyButton() const { return generateKey_; }
    QPushButton* startButton() const { return start_; }
    QPushButton* stopButton() const { return stop_; }
    QLabel* stateLabel() const { return state_; }
    QLineEdit* urlField() const { return url_; }
    QPushButton* copyUrlButton() const { return copyUrl_; }
    QPlainTextEdit* curlExample() const { return curl_; }
    QLabel* totalsLabel() const { return totals_; }
    QTableView* requestTable() const { return table_; }
    ServerClusterBox* clusterBox() const { return cluster_; }

private:
    void reloadModels();
    void updateControls();
    void updateHostWarning();
    void showProcessState();
    void showMetrics(const ServerMetrics& m);
    void updateCurlExample();
    void generateKey();
    void copySelectedKey();
    void removeSelectedKey();
    void browseForModel();
    QStringList apiKeys() const;
    // The address the page polls: a server bound to every interface is asked on loopback.
    static QUrl pollUrl(const QUrl& listening);

    AppContext& context_;
    ServerProcess* process_ = nullptr;
    ServerMonitor* monitor_ = nullptr;
    ServerRequestModel* requests_ = nullptr;
    ThroughputChart* chart_ = nullptr;

    QComboBox* model_ = nullptr;
    QPushButton* browse_ = nullptr;
    QLineEdit* host_ = nullptr;
    QLabel* hostWarning_ = nullptr;
    QSpinBox* port_ = nullptr;
    QListWidget* keys_ = nullptr;
    QPushButton* generateKey_ = nullptr;
    QPushButton* copyKey_ = nullptr;
    QPushButton* removeKey_ = nullptr;
    QSpinBox* parallel_ = nullptr;
    QSpinBox* context_size_ = nullptr;
    QSpinBox* threads_ = nullptr;
    QComboBox* device_ = nullptr;
    QCheckBox* profile_ = nullptr;
    QSpinBox* mpiRanks_ = nullptr;
    QComboBox* mpiMode_ = nullptr;
    QLineEdit* mpiHostFile_ = nullptr;
    QPushButton* start_ = nullptr;
    QPushButton* stop_ = nullptr;
    QLabel* state_ = nullptr;
    QLineEdit* url_ = nullptr;
    QPushButton* copyUrl_ = nullptr;
    QPlainTextEdit* curl_ = nullptr;
    QPushButton* copyCurl_ = nullptr;
    QLabel* totals_ = nullptr;
    QTableView* table_ = nullptr;
    ServerClusterBox* cluster_ = nullptr; // shown for an MPI server only
    QList<QWidget*> settingsWidgets_; // locked while a server runs
    int pollIntervalMs_ = 1000;
};

} // namespace tenfold::ui
