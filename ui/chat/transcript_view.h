#pragma once
// The scrolling column of message cards and notices of one conversation. Follows the newest text
// while the user is at the bottom; leaves the scroll position alone when they scrolled up to read.
#include <QScrollArea>
#include <QVector>

class QLabel;
class QVBoxLayout;

namespace tenfold::ui {

class MessageBubble;

class TranscriptView : public QScrollArea {
    Q_OBJECT
public:
    explicit TranscriptView(QWidget* parent = nullptr);

    void clear();
    void addBubble(MessageBubble* bubble);
    QLabel* addNotice(const QString& text);
    void setEmptyText(const QString& text);
    QVector<MessageBubble*> bubbles() const { return bubbles_; }
    MessageBubble* bubbleFor(qint64 messageId) const;
    MessageBubble* lastBubble() const { return bubbles_.isEmpty() ? nullptr : bubbles_.back(); }
    void followIfAtBottom();

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void insertRow(QWidget* row, Qt::Alignment alignment);
    void updateWidths();

    QWidget* content_ = nullptr;
    QVBoxLayout* column_ = nullptr;
    QLabel* empty_ = nullptr;
    QVector<MessageBubble*> bubbles_;
    QVector<QWidget*> rows_;
    bool stickToBottom_ = true;
};

} // namespace tenfold::ui
