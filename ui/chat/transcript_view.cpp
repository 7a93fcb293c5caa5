#include "chat/transcript_view.h"

#include "chat/message_bubble.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>

namespace tenfold::ui {

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
    column_->addStretch(1);
    setWidget(content_);

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
    empty_->setVisible(true);
    stickToBottom_ = true;
}

void TranscriptView::insertRow(QWidget* row, Qt::Alignment alignment)
{
    empty_->setVisible(false);
    // Before the trailing stretch, which keeps cards at the top of a short conversation.
    column_->insertWidget(column_->count() - 1, row, 0, alignment);
    rows_.push_back(row);
}

void TranscriptView::addBubble(MessageBubble* bubble)
{
    if (bubble->role() == QLatin1String("user")) {
        // Right-aligned and only as wide as its text: a row with a stretch on the left. (Aligning
        // the card in the column instead would break the label's height-for-width wrapping.)
        auto* row = new QWidget(content_);
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        h->addStretch(1);
        h->addWidget(bubble);
        insertRow(row, Qt::Alignment());
    } else {
        bubble->setParent(content_);
        insertRow(bubble, Qt::Alignment());
    }
    bubbles_.push_back(bubble);
    updateWidths();
    stickToBottom_ = true;
}

QLabel* TranscriptView::addNotice(const QString& text)
{
    auto* notice = new QLabel(text, content_);
    notice->setObjectName(QStringLiteral("notice"));
    notice->setWordWrap(true);
    insertRow(notice, Qt::Alignment());
    return notice;
}

MessageBubble* TranscriptView::bubbleFor(qint64 messageId) const
{
    for (MessageBubble* b : bubbles_)
        if (b->messageId() == messageId)
            return b;
    return nullptr;
}

void TranscriptView::followIfAtBottom()
{
    if (stickToBottom_)
        verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::updateWidths()
{
    const int available = viewport()->width() - 48;
    for (MessageBubble* b : bubbles_)
        if (b->role() == QLatin1String("user"))
            b->setFixedWidth(b->preferredWidth(std::max(220, available * 4 / 5)));
}

void TranscriptView::resizeEvent(QResizeEvent* event)
{
    QScrollArea::resizeEvent(event);
    updateWidths();
}

} // namespace tenfold::ui
