#pragma once
// What caching saved: the response cache's hit rates (exact and semantic), the tokens and time
// it saved, its size on disk, and how much of this run's prompts the chat took from the
// conversation's KV cache instead of computing. Every read runs on the store thread; the page
// refreshes itself when a reply finishes.
#include "core/page.h"
#include "store/response_cache.h"

#include <memory>

class QLabel;
class QPushButton;
class QMessageBox;

QT_BEGIN_NAMESPACE
class QBarSet;
class QChartView;
class QValueAxis;
QT_END_NAMESPACE

namespace tenfold::ui {

class CachePage : public Page {
    Q_OBJECT
public:
    CachePage(AppContext& context, QWidget* parent = nullptr);
    ~CachePage() override;
    QString pageId() const override { return QStringLiteral("cache"); }
    QString title() const override { return tr("Cache"); }
    IconKind icon() const override { return IconKind::Info; }
    void pageShown() override { refresh(); }

    // Reads the statistics on the store thread; statsShown() follows once they are on screen.
    void refresh();
    // Asks for confirmation, then empties the response cache (on the store thread).
    void askToClear();

    // For tests: the figures last shown and the widgets that show them.
    const ResponseCacheStats& shownStats() const { return stats_; }
    QLabel* exactLabel() const { return exact_; }
    QLabel* semanticLabel() const { return semantic_; }
    QLabel* savedLabel() const { return saved_; }
    QLabel* sizeLabel() const { return size_; }
    QLabel* reuseLabel() const { return reuse_; }
    QPushButton* clearButton() const { return clear_; }
    QPushButton* refreshButton() const { return refresh_; }
    QMessageBox* confirmation() const { return confirm_; }

signals:
    void statsShown();
    void cacheCleared();

private:
    void show(const ResponseCacheStats& stats);
    void showReuse();
    void clearNow();

    AppContext& context_;
    // The page's own connection to tenfold.db, opened and used only on the store thread.
    std::shared_ptr<std::unique_ptr<ResponseCache>> cache_ = std::make_shared<std::unique_ptr<ResponseCache>>();
    ResponseCacheStats stats_;
    QLabel* exact_ = nullptr;
    QLabel* semantic_ = nullptr;
    QLabel* saved_ = nullptr;
    QLabel* size_ = nullptr;
    QLabel* reuse_ = nullptr;
    QLabel* status_ = nullptr;
    QPushButton* clear_ = nullptr;
    QPushButton* refresh_ = nullptr;
    QMessageBox* confirm_ = nullptr;
    QChartView* chart_ = nullptr;
    QBarSet* hits_ = nullptr;
    QBarSet* misses_ = nullptr;
    QValueAxis* countAxis_ = nullptr;
};

} // namespace tenfold::ui
