#include "cache/cache_page.h"

#include "core/app_context.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>

namespace tenfold::ui {
namespace {

QString percent(qint64 part, qint64 whole)
{
    return QLocale().toString(whole > 0 ? 100.0 * double(part) / double(whole) : 0.0, 'f', 1) + QLatin1Char('%');
}

QLabel* valueLabel(QWidget* parent)
{
    auto* label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    return label;
}

} // namespace

CachePage::CachePage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(28, 24, 28, 24);
    auto* heading = new QLabel(tr("Cache"), this);
    heading->setObjectName(QStringLiteral("pageTitle"));
    outer->addWidget(heading);
    auto* intro = new QLabel(tr("Replies at temperature 0 or with a fixed seed are stored; asking the same "
                                "again shows the stored answer without computing it. Each conversation "
                                "also keeps its computed prompt between replies."),
                             this);
    intro->setWordWrap(true);
    outer->addWidget(intro);

    auto* response = new QGroupBox(tr("Response cache"), this);
    auto* responseLayout = new QVBoxLayout(response);
    exact_ = valueLabel(response);
    semantic_ = valueLabel(response);
    saved_ = valueLabel(response);
    size_ = valueLabel(response);
    for (QLabel* l : {exact_, semantic_, saved_, size_})
        responseLayout->addWidget(l);

    hits_ = new QBarSet(tr("Hits"));
    misses_ = new QBarSet(tr("Misses"));
    *hits_ << 0 << 0;
    *misses_ << 0 << 0;
    auto* series = new QBarSeries;
    series->append(hits_);
    series->append(misses_);
    auto* chart = new QChart;
    chart->addSeries(series);
    chart->setTitle(tr("Lookups by kind"));
    auto* kinds = new QBarCategoryAxis;
    kinds->append({tr("Exact"), tr("Semantic")});
    chart->addAxis(kinds, Qt::AlignBottom);
    series->attachAxis(kinds);
    countAxis_ = new QValueAxis;
    countAxis_->setLabelFormat(QStringLiteral("%d"));
    countAxis_->setRange(0, 1);
    chart->addAxis(countAxis_, Qt::AlignLeft);
    series->attachAxis(countAxis_);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setBackgroundVisible(false);
    chart_ = new QChartView(chart, response);
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(220);
    chart_->setAccessibleName(tr("Response cache hits and misses by kind"));
    responseLayout->addWidget(chart_);
    outer->addWidget(response);

    auto* kv = new QGroupBox(tr("Conversation cache (this session)"), this);
    auto* kvLayout = new QVBoxLayout(kv);
    reuse_ = valueLabel(kv);
    kvLayout->addWidget(reuse_);
    outer->addWidget(kv);

    auto* buttons = new QHBoxLayout;
    refresh_ = new QPushButton(tr("&Refresh"), this);
    refresh_->setShortcut(QKeySequence::Refresh);
    refresh_->setToolTip(tr("Read the figures again (%1)").arg(QKeySequence(QKeySequence::Refresh).toString(QKeySequence::NativeText)));
    clear_ = new QPushButton(tr("C&lear response cache…"), this);
    clear_->setToolTip(tr("Delete every stored answer. The usage ledger keeps its records."));
    status_ = new QLabel(this);
    buttons->addWidget(refresh_);
    buttons->addWidget(clear_);
    buttons->addStretch(1);
    buttons->addWidget(status_);
    outer->addLayout(buttons);
    outer->addStretch(1);

    connect(refresh_, &QPushButton::clicked, this, &CachePage::refresh);
    connect(clear_, &QPushButton::clicked, this, &CachePage::askToClear);
    // A finished reply may have stored or answered from the cache (the engine wrote it before
    // it reported the reply), and it changes this session's reuse figures.
    connect(&context_.host(), &ModelHost::generationFinished, this, [this] { refresh(); });

    show(stats_);
    showReuse();
    refresh();
}

CachePage::~CachePage()
{
    // The connection is closed on the store thread, like every other SQLite call.
    context_.storeWorker().post([cache = cache_](Store&) { cache->reset(); }, QString());
}

void CachePage::refresh()
{
    status_->setText(tr("Reading…"));
    context_.storeWorker().call<ResponseCacheStats>(
        this,
        [cache = cache_](Store& store) {
            if (!*cache)
                *cache = std::make_unique<ResponseCache>(store.databasePath());
            return (*cache)->stats();
        },
        [this](ResponseCacheStats stats) {
            show(stats);
            showReuse();
            status_->setText(tr("Updated %1").arg(QLocale().toString(QTime::currentTime(), QLocale::ShortFormat)));
            emit statsShown();
        },
        tr("the cache statistics"), [this] { status_->setText(tr("Could not read the cache statistics.")); });
}

void CachePage::askToClear()
{
    if (confirm_)
        return;
    confirm_ = new QMessageBox(QMessageBox::Question, tr("Clear the response cache?"),
                               tr("Every stored answer will be deleted, and a repeated question will be "
                                  "computed again. The usage ledger keeps its records."),
                               QMessageBox::NoButton, this);
    QPushButton* yes = confirm_->addButton(tr("Clear"), QMessageBox::DestructiveRole);
    confirm_->addButton(QMessageBox::Cancel);
    confirm_->setDefaultButton(QMessageBox::Cancel);
    confirm_->setAttribute(Qt::WA_DeleteOnClose);
    connect(confirm_, &QMessageBox::finished, this, [this, yes] {
        const bool accepted = confirm_ && confirm_->clickedButton() == yes;
        confirm_ = nullptr;
        if (accepted)
            clearNow();
    });
    confirm_->open();
}

void CachePage::clearNow()
{
    status_->setText(tr("Clearing…"));
    context_.storeWorker().post(
        [cache = cache_](Store& store) {
            if (!*cache)
                *cache = std::make_unique<ResponseCache>(store.databasePath());
            (*cache)->clear();
        },
        tr("the response cache"), this,
        [this] {
            emit cacheCleared();
            refresh();
        });
}

void CachePage::show(const ResponseCacheStats& s)
{
    stats_ = s;
    const QLocale locale;
    auto kindLine = [&](const QString& name, const ResponseCacheKindStats& k) {
        const qint64 lookups = k.hits + k.misses;
        if (lookups == 0)
            return tr("%1: no lookups yet").arg(name);
        return tr("%1: hits %L2, misses %L3, hit rate %4").arg(name).arg(k.hits).arg(k.misses).arg(percent(k.hits, lookups));
    };
    exact_->setText(kindLine(tr("Exact"), s.exact));
    semantic_->setText(kindLine(tr("Semantic"), s.semantic));
    const qint64 tokens = s.exact.tokensSaved + s.semantic.tokensSaved;
    const double seconds = (s.exact.msSaved + s.semantic.msSaved) / 1000.0;
    saved_->setText(tr("Tokens not computed: %L1; compute time saved: %2 s").arg(tokens).arg(locale.toString(seconds, 'f', 1)));
    size_->setText(tr("Stored answers: %L1; disk used: %2").arg(s.entries).arg(locale.formattedDataSize(s.bytes)));

    hits_->replace(0, double(s.exact.hits));
    hits_->replace(1, double(s.semantic.hits));
    misses_->replace(0, double(s.exact.misses));
    misses_->replace(1, double(s.semantic.misses));
    const int64_t top = std::max({s.exact.hits, s.exact.misses, s.semantic.hits, s.semantic.misses, int64_t(1)});
    countAxis_->setRange(0, double(top));
    countAxis_->setTickCount(int(std::min<int64_t>(top, 4)) + 1);
}

void CachePage::showReuse()
{
    const ReplyTotals& t = context_.host().replyTotals();
    const qint64 prompt = t.reusedPromptTokens + t.computedPromptTokens;
    if (t.replies == 0) {
        reuse_->setText(tr("No replies in this session yet."));
        return;
    }
    reuse_->setText(tr("Replies: %L1. Prompt tokens taken from the conversation's cache: %L2; computed: %L3 "
                       "(%4 reused). Replies answered from the response cache: %L5.")
                        .arg(t.replies)
                        .arg(t.reusedPromptTokens)
                        .arg(t.computedPromptTokens)
                        .arg(percent(t.reusedPromptTokens, prompt))
                        .arg(t.exactHits + t.semanticHits));
}

} // namespace tenfold::ui
