#pragma once
// The Models page's Discover tab: search the model hub for GGUF repositories, see a repository's
// files grouped by quantization with size and whether they fit in memory, download them with
// progress, speed and time left (pause, resume, remove), and hand finished ones to the library.
#include "session/hub_service.h"

#include <QHash>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace tenfold::ui {

class AppContext;

class DiscoverTab : public QWidget {
    Q_OBJECT
public:
    DiscoverTab(AppContext& context, QWidget* parent = nullptr);

    HubService* service() const { return service_; }
    QLineEdit* searchEdit() const { return search_; }
    QPushButton* searchButton() const { return searchButton_; }
    QTreeWidget* resultsView() const { return results_; }
    QTreeWidget* filesView() const { return files_; }
    QPushButton* downloadButton() const { return download_; }
    QTreeWidget* downloadsView() const { return downloads_; }
    QPushButton* pauseButton() const { return pause_; }
    QPushButton* resumeButton() const { return resume_; }
    QPushButton* removeButton() const { return remove_; }
    QLabel* statusLabel() const { return status_; }
    // The download row of `id` (for tests), or null.
    QTreeWidgetItem* downloadItem(qint64 id) const { return downloadRows_.value(id, nullptr); }

signals:
    void modelDownloaded(const QString& path);

private:
    void startSearch();
    void showResults(const QString& query, const QVector<HubModelInfo>& models);
    void onResultSelected();
    void showChoices(const QString& repo, const QVector<HubFileChoice>& choices);
    void onFileSelected();
    void startDownload();
    void showDownload(const HubDownloadInfo& d);
    void onDownloadSelected();
    qint64 selectedDownloadId() const;
    void showStatus(const QString& text, bool error);

    HubService* service_ = nullptr;
    QLineEdit* search_ = nullptr;
    QPushButton* searchButton_ = nullptr;
    QTreeWidget* results_ = nullptr;
    QTreeWidget* files_ = nullptr;
    QPushButton* download_ = nullptr;
    QTreeWidget* downloads_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* resume_ = nullptr;
    QPushButton* remove_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* filesHeading_ = nullptr;
    QString shownRepo_;
    QVector<HubFileChoice> choices_;
    QHash<qint64, QTreeWidgetItem*> downloadRows_;
    QHash<qint64, QString> downloadStates_;
};

} // namespace tenfold::ui
