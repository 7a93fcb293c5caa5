#include "core/main_window.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/page.h"
#include "session/model_host.h"

#include <QCloseEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QScreen>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace tenfold::ui {

MainWindow::MainWindow(AppContext& context, const PageRegistry& registry, QWidget* parent)
    : QMainWindow(parent), context_(context)
{
    setWindowTitle(tr("Tenfold"));
    setWindowIcon(appIcon());
    setMinimumSize(900, 600);

    auto* central = new QWidget(this);
    auto* outer = new QHBoxLayout(central);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(0);

    auto* side = new QWidget(central);
    side->setObjectName(QStringLiteral("sidebarPanel"));
    side->setFixedWidth(200);
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(10, 16, 10, 12);
    sideLayout->setSpacing(10);
    auto* brand = new QLabel(tr("Tenfold"), side);
    brand->setObjectName(QStringLiteral("brand"));
    sideLayout->addWidget(brand);
    sidebar_ = new QListWidget(side);
    sidebar_->setObjectName(QStringLiteral("sidebar"));
    sidebar_->setIconSize(QSize(20, 20));
    sidebar_->setFrameShape(QFrame::NoFrame);
    sidebar_->setFocusPolicy(Qt::StrongFocus);
    sideLayout->addWidget(sidebar_, 1);
    engineStatus_ = new QLabel(side);
    engineStatus_->setObjectName(QStringLiteral("engineStatus"));
    engineStatus_->setWordWrap(true);
    sideLayout->addWidget(engineStatus_);
    outer->addWidget(side);

    auto* right = new QWidget(central);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->setSpacing(0);
    bannerBar_ = new QWidget(right);
    auto* bannerLayout = new QHBoxLayout(bannerBar_);
    bannerLayout->setContentsMargins(0, 0, 0, 0);
    bannerLayout->setSpacing(0);
    banner_ = new QLabel(bannerBar_);
    banner_->setObjectName(QStringLiteral("banner"));
    banner_->setWordWrap(true);
    banner_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bannerLayout->addWidget(banner_, 1);
    bannerClose_ = new QToolButton(bannerBar_);
    bannerClose_->setText(QStringLiteral("✕"));
    bannerClose_->setAutoRaise(true);
    bannerClose_->setToolTip(tr("Dismiss this message"));
    bannerLayout->addWidget(bannerClose_, 0, Qt::AlignTop);
    connect(bannerClose_, &QToolButton::clicked, this, &MainWindow::hideBanner);
    banner_->hide();
    bannerBar_->hide();
    rightLayout->addWidget(bannerBar_);
    stack_ = new QStackedWidget(right);
    rightLayout->addWidget(stack_, 1);
    outer->addWidget(right, 1);
    setCentralWidget(central);

    for (const PageEntry& entry : registry.entries()) {
        Page* p = entry.create(context_, stack_);
        p->setObjectName(entry.id);
        pages_.push_back(p);
        stack_->addWidget(p);
        addActions(p->windowActions());
        auto* item = new QListWidgetItem(themedIcon(p->icon()), p->title(), sidebar_);
        item->setData(Qt::UserRole, entry.id);
        item->setSizeHint(QSize(0, 40));
    }
    connect(sidebar_, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || row >= pages_.size())
            return;
        stack_->setCurrentIndex(row);
        context_.settings().setLastPage(pages_[row]->pageId());
        pages_[row]->pageShown();
    });

    connect(&context_, &AppContext::storageError, this, &MainWindow::showBanner);
    // The banner only reports storage errors, so it goes once saving works again.
    connect(&context_, &AppContext::storageRecovered, this, &MainWindow::hideBanner);
    connect(&context_, &AppContext::navigateRequested, this, &MainWindow::showPage);
    connect(&context_.host(), &ModelHost::stateChanged, this, &MainWindow::updateEngineStatus);
    connect(&context_.host(), &ModelHost::loaded, this, &MainWindow::updateEngineStatus);
    updateEngineStatus();

    const QByteArray geometry = context_.settings().windowGeometry();
    if (geometry.isEmpty() || !restoreGeometry(geometry))
        resize(1200, 800);
    const QString last = context_.settings().lastPage();
    showPage(last.isEmpty() || !page(last) ? (pages_.isEmpty() ? QString() : pages_.front()->pageId()) : last);
}

Page* MainWindow::page(const QString& id) const
{
    for (Page* p : pages_)
        if (p->pageId() == id)
            return p;
    return nullptr;
}

Page* MainWindow::currentPage() const
{
    return qobject_cast<Page*>(stack_->currentWidget());
}

void MainWindow::showPage(const QString& id)
{
    for (int i = 0; i < pages_.size(); ++i)
        if (pages_[i]->pageId() == id) {
            sidebar_->setCurrentRow(i);
            return;
        }
}

void MainWindow::showBanner(const QString& message)
{
    banner_->setText(message);
    banner_->show();
    bannerBar_->show();
}

void MainWindow::hideBanner()
{
    banner_->hide();
    bannerBar_->hide();
}

void MainWindow::updateEngineStatus()
{
    const ModelHost& host = context_.host();
    switch (host.state()) {
    case ModelHost::State::Empty:
        engineStatus_->setText(tr("No model loaded"));
        break;
    case ModelHost::State::Loading:
        engineStatus_->setText(tr("Loading model…"));
        break;
    case ModelHost::State::Ready:
    case ModelHost::State::Generating:
        if (host.loadedModel())
            engineStatus_->setText(tr("%1\n%2").arg(host.loadedModel()->name, host.loadedModel()->backendName));
        break;
    }
}

void MainWindow::refreshSidebarIcons()
{
    for (int i = 0; i < sidebar_->count() && i < pages_.size(); ++i)
        sidebar_->item(i)->setIcon(themedIcon(pages_[i]->icon()));
}

void MainWindow::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange)
        refreshSidebarIcons();
    QMainWindow::changeEvent(event);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    context_.settings().setWindowGeometry(saveGeometry());
    context_.settings().sync();
    QMainWindow::closeEvent(event);
}

} // namespace tenfold::ui
