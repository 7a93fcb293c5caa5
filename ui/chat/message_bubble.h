#pragma once
// One message as a card: who wrote it, the text rendered as Markdown, the reply's statistics and
// its actions (copy, edit and resend, regenerate).
#include "chat/cached_label.h"
#include "store/store.h"

#include <QFrame>

class QLabel;
class QTimer;
class QToolButton;
class QUrl;

namespace tenfold::ui {

class MessageBubble : public QFrame {
    Q_OBJECT
public:
    MessageBubble(const StoredMessage& message, const QString& author, QWidget* parent = nullptr);

    qint64 messageId() const { return id_; }
    QString role() const { return role_; }
    QString text() const { return text_; }
    MessageState state() const { return state_; }

    void appendText(const QString& chunk);
    void setText(const QString& text);
    void setState(MessageState state, const QString& detail = {});
    void setStats(const MessageStats& stats);
    void setRegenerateVisible(bool visible);
    void setActionsEnabled(bool enabled);
    void refreshIcons();
    // The width that fits the text without wrapping, at most maxWidth.
    int preferredWidth(int maxWidth) const;

    // Streamed text is rendered at most this often; setText()/setState() render at once.
    static constexpr int kStreamRenderIntervalMs = 90;
    // Links in model output open only when this says yes (http and https).
    static bool isWebLink(const QUrl& url);

    QLabel* contentLabel() const { return content_; }
    QLabel* statsLabel() const { return stats_; }
    QLabel* stateLabel() const { return stateTag_; }
    // How often the Markdown was rendered (tests check appends do not re-render other cards).
    int renderCount() const { return renderCount_; }

signals:
    void copyRequested(qint64 id);
    void editRequested(qint64 id);
    void regenerateRequested(qint64 id);

private:
    void render();

    qint64 id_ = 0;
    QString role_;
    QString text_;
    MessageState state_ = MessageState::Complete;
    QLabel* author_ = nullptr;
    QLabel* stateTag_ = nullptr;
    CachedLabel* content_ = nullptr;
    QLabel* stats_ = nullptr;
    QTimer* renderTimer_ = nullptr;
    QToolButton* copy_ = nullptr;
    QToolButton* edit_ = nullptr;
    QToolButton* regenerate_ = nullptr;
    bool built_ = false;
    int renderCount_ = 0;
    mutable int idealTextWidth_ = -1; // cached natural width of text_, -1: not measured
};

// "12 in · 48 out · first token 35 ms · 210.4 tokens/s"
QString formatStats(const MessageStats& stats);

} // namespace tenfold::ui
