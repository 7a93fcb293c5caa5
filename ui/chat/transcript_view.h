#pragma once
// The scrolling column of message cards and notices of one conversation. Follows the newest text
// while the user is at the bottom; leaves the scroll position alone when they scrolled up to read.
//
// Cost: adding, finding or growing a card touches that card only (no pass over the others), and a
// long conversation shows only its newest cards; older ones are built when the user asks for them
// ("Show earlier messages"), so opening 2,000 messages builds a few dozen widgets, not 2,000.
#include <QHash>
#include <QScrollArea>
#include <QVector>

class QLabel;
class QPushButton;
class QVBoxLayout;

namespace tenfold::ui {

class MessageBubble;

class TranscriptView : public QScrollArea {
    Q_OBJECT
public:
    explicit TranscriptView(QWidget* parent = nullptr);

    void clear();
    void addBubble(MessageBubble* bubble);
    // Puts older cards above the ones shown (oldest first in `older`).
    void prependBubbles(const QVector<MessageBubble*>& older);
    // Removes the card at `index` and every row after it (regenerate, edit and resend).
    void removeBubblesFrom(int index);
    QLabel* addNotice(const QString& text);
    void setEmptyText(const QString& text);
    // How many older messages are not shown; > 0 shows the "Show earlier messages" button.
    void setHiddenEarlierCount(int count);
    int hiddenEarlierCount() const { return hiddenEarlier_; }
    QPushButton* showEarlierButton() const { return showEarlier_; }
    QVector<MessageBubble*> bubbles() const { return bubbles_; }
    MessageBubble* bubbleFor(qint64 messageId) const { return byId_.value(messageId, nullptr); }
    MessageBubble* lastBubble() const { return bubbles_.isEmpty() ? nullptr : bubbles_.back(); }
    void followIfAtBottom();

signals:
    void showEarlierRequested();

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    QWidget* wrap(MessageBubble* bubble);
    void insertRow(QWidget* row, int position);
    void fitWidth(MessageBubble* bubble, int available);
    int availableWidth() const;

    QWidget* content_ = nullptr;
    QVBoxLayout* column_ = nullptr;
    QLabel* empty_ = nullptr;
    QPushButton* showEarlier_ = nullptr;
    QVector<MessageBubble*> bubbles_;
    QHash<qint64, MessageBubble*> byId_;
    QVector<QWidget*> rows_;               // in display order
    QHash<MessageBubble*, QWidget*> rowOf_; // the row holding each card
    int hiddenEarlier_ = 0;
    int fittedWidth_ = -1;                  // the width user cards were last fitted to
    bool stickToBottom_ = true;
};

} // namespace tenfold::ui
