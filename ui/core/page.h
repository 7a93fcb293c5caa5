#pragma once
// A top-level area of the main window (Chat, Models, Settings...). Pages are created through the
// PageRegistry, so adding one means registering a factory, not editing the window.
#include "core/icons.h"

#include <QList>
#include <QString>
#include <QWidget>

#include <functional>
#include <vector>

class QAction;

namespace tenfold::ui {

class AppContext;

class Page : public QWidget {
    Q_OBJECT
public:
    using QWidget::QWidget;
    virtual QString pageId() const = 0;
    virtual QString title() const = 0;   // translated, for the sidebar
    virtual IconKind icon() const = 0;
    virtual void pageShown() {}
    // Called when the palette changes, so drawn icons can follow the theme.
    virtual void refreshIcons() {}
    // Actions whose shortcuts work on every page (the window adds them to itself).
    virtual QList<QAction*> windowActions() const { return {}; }

protected:
    void changeEvent(QEvent* event) override;
};

struct PageEntry {
    QString id;
    std::function<Page*(AppContext&, QWidget* parent)> create;
};

class PageRegistry {
public:
    void add(PageEntry entry) { entries_.push_back(std::move(entry)); }
    const std::vector<PageEntry>& entries() const { return entries_; }
    // Chat, Models, Optimize, Prompt lab, Server, Cache, Profiler, Cost history, Settings.
    static PageRegistry standard();

private:
    std::vector<PageEntry> entries_;
};

} // namespace tenfold::ui
