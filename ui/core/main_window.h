#pragma once
// The application window: a navigation sidebar listing the registered pages, the page stack, a
// banner for storage problems and a status line for the engine. Geometry and the last page are
// restored from the settings.
#include <QMainWindow>
#include <QVector>

class QLabel;
class QListWidget;
class QStackedWidget;
class QToolButton;

namespace tenfold::ui {

class AppContext;
class Page;
class PageRegistry;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    MainWindow(AppContext& context, const PageRegistry& registry, QWidget* parent = nullptr);

    Page* page(const QString& id) const;
    Page* currentPage() const;
    QVector<Page*> pages() const { return pages_; }
    void showPage(const QString& id);
    QListWidget* sidebar() const { return sidebar_; }
    QLabel* banner() const { return banner_; }
    QToolButton* bannerCloseButton() const { return bannerClose_; }

protected:
    void closeEvent(QCloseEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void updateEngineStatus();
    void refreshSidebarIcons();
    void showBanner(const QString& message);
    void hideBanner();

    AppContext& context_;
    QListWidget* sidebar_ = nullptr;
    QStackedWidget* stack_ = nullptr;
    QWidget* bannerBar_ = nullptr;
    QLabel* banner_ = nullptr;
    QToolButton* bannerClose_ = nullptr;
    QLabel* engineStatus_ = nullptr;
    QVector<Page*> pages_;
};

} // namespace tenfold::ui
