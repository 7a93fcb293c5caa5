#include "chat/transcript_view.h"

#include "chat/message_bubble.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QVBoxLayout>

namespace tenfold::ui {

namespace {
// Layout slots before the first row: the empty-state label and the "earlier" button.
constexpr int kLeadingItems = 2;
}

TranscriptView::TranscriptView(QWidget* parent) : QScrollArea(parent)
{
    setObjectName(QStringLiteral("transcript"));
    setWidgetResizable(true);
    setFrameShape(QFrame::NoFrame);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    content_ = new QWidget(this);
    content_->setObjectName(QStringLiteral("transcript"));
    column_ = new QVBoxLayout(content_);
    column_->setContentsMargins(24, 18, 24, 18);
    column_->setSpacing(12);
    empty_ = new QLabel(content_);
    empty_->setObjectName(QStringLiteral("mutedLabel"));
    empty_->setAlignment(Qt::AlignCenter);
    empty_->setWordWrap(true);
    empty_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Expanding);
    column_->addWidget(empty_, 1);
    showEarlier_ = new QPushButton(content_);
    showEarlier_->setFlat(true);
    showEarlier_->hide();
    column_->addWidget(showEarlier_, 0, Qt::AlignHCenter);
    column_->addStretch(1);
    setWidget(content_);

    connect(showEarlier_, &QPushButton::clicked, this, &TranscriptView::showEarlierRequested);
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int value) {
        stickToBottom_ = value >= verticalScrollBar()->maximum() - 24;
    });
    connect(verticalScrollBar(), &QScrollBar::rangeChanged, this, [this](int, int max) {
        if (stickToBottom_)
            verticalScrollBar()->setValue(max);
    });
}

void TranscriptView::setEmptyText(const QString& text)
{
    empty_->setText(text);
    empty_->setVisible(rows_.isEmpty());
}

void TranscriptView::setHiddenEarlierCount(int count)
{
    hiddenEarlier_ = std::max(0, count);
    showEarlier_->setText(tr("Show %n earlier message(s)", nullptr, hiddenEarlier_));
    showEarlier_->setVisible(hiddenEarlier_ > 0);
}

void TranscriptView::clear()
{
    // Deferred: clear() runs from a card's own button signal (Regenerate, Edit and resend), and
    // deleting the button while it is still emitting would free it under Qt's feet.
    for (QWidget* row : rows_) {
        column_->removeWidget(row);
        row->hide();
        row->deleteLater();
    }
    rows_.clear();
    bubbles_.clear();
    byId_.clear();
    rowOf_.clear();
    setHiddenEarlierCount(0);
    empty_->setVisible(true);
    stickToBottom_ = true;
}

void TranscriptView::removeBubblesFrom(int index)
{
    if (index < 0 || index >= bubbles_.size())
        return;
    const int firstRow = int(rows_.indexOf(rowOf_.value(bubbles_[index])));
    for (int i = index; i < bubbles_.size(); ++i) {
        byId_.remove(bubbles_[i]->messageId());
        rowOf_.remove(bubbles_[i]);
    }
    bubbles_.resize(index);
    for (int r = firstRow; r >= 0 && r < rows_.size(); ++r) {
        column_->removeWidget(rows_[r]);
        rows_[r]->hide();
        rows_[r]->deleteLater(); // see clear()
    }
    if (firstRow >= 0)
        rows_.resize(firstRow);
    empty_->setVisible(rows_.isEmpty());
}

void TranscriptView::insertRow(QWidget* row, int position)
{
    empty_->setVisible(false);
    // After the empty label and the "earlier" button, before the trailing stretch (which keeps
    // cards at the top of a short conversation).
    column_->insertWidget(kLeadingItems + position, row);
    rows_.insert(position, row);
}

QWidget* TranscriptView::wrap(MessageBubble* bubble)
{
    if (bubble->role() != QLatin1String("user")) {
        bubble->setParent(content_);
        return bubble;
    }
    // Right-aligned and only as wide as its text: a row with a stretch on the left. (Aligning the
    // card in the column instead would break the label's height-for-width wrapping.)
    auto* row = new QWidget(content_);
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->addStretch(1);
    h->addWidget(bubble);
    return row;
}

int TranscriptView::availableWidth() const
{
    return viewport()->width() - 48;
}

void TranscriptView::fitWidth(MessageBubble* bubble, int available)
{
    if (bubble->role() == QLatin1String("user"))
        bubble->setFixedWidth(bubble->preferredWidth(std::max(220, available * 4 / 5)));
}

void TranscriptView::addBubble(MessageBubble* bubble)
{
    QWidget* row = wrap(bubble);
    insertRow(row, int(rows_.size()));
    rowOf_.insert(bubble, row);
    bubbles_.push_back(bubble);
    byId_.insert(bubble->messageId(), bubble);
    fitWidth(bubble, availableWidth()); // this card only
    stickToBottom_ = true;
}

void TranscriptView::prependBubbles(const QVector<MessageBubble*>& older)
{
    const int available = availableWidth();
    for (int i = 0; i < older.size(); ++i) {
        MessageBubble* bubble = older[i];
        QWidget* row = wrap(bubble);
        insertRow(row, i);
        rowOf_.insert(bubble, row);
        byId_.insert(bubble->messageId(), bubble);
        fitWidth(bubble, available);
    }
    bubbles_ = older + bubbles_;
    stickToBottom_ = false; // the user is reading up: do not jump to the end
}

QLabel* TranscriptView::addNotice(const QString& text)
{
    auto* notice = new QLabel(text, content_);
    notice->setObjectName(QStringLiteral("notice"));
    notice->setWordWrap(true);
    insertRow(notice, int(rows_.size()));
    return notice;
}

void TranscriptView::followIfAtBottom()
{
    if (stickToBottom_)
        verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::resizeEvent(QResizeEvent* event)
{
    QScrollArea::resizeEvent(event);
    // Only a change of width re-fits the cards (each card caches its text's natural width).
    const int available = availableWidth();
    if (available == fittedWidth_)
        return;
    fittedWidth_ = available;
    for (MessageBubble* b : bubbles_)
        fitWidth(b, available);
}

} // namespace tenfold::ui
