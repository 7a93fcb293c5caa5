#include "chat/message_bubble.h"

#include "chat/cached_label.h"
#include "chat/markdown_render.h"
#include "core/icons.h"

#include <QHBoxLayout>
#include <QDesktopServices>
#include <QLabel>
#include <QTextDocument>

#include <cmath>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

namespace tenfold::ui {

QString formatStats(const MessageStats& s)
{
    return MessageBubble::tr("%1 in · %2 out · first token %3 ms · %4 tokens/s")
        .arg(s.tokensIn)
        .arg(s.tokensOut)
        .arg(s.timeToFirstTokenMs, 0, 'f', s.timeToFirstTokenMs < 10 ? 1 : 0)
        .arg(s.tokensPerSecond, 0, 'f', 1);
}

MessageBubble::MessageBubble(const StoredMessage& message, const QString& author, QWidget* parent)
    : QFrame(parent), id_(message.id), role_(QString::fromStdString(message.role)),
      text_(QString::fromStdString(message.content)), state_(message.state)
{
    setObjectName(role_ == QLatin1String("user") ? QStringLiteral("userBubble") : QStringLiteral("assistantBubble"));
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(14, 10, 14, 8);
    layout->setSpacing(6);

    auto* header = new QHBoxLayout;
    author_ = new QLabel(author, this);
    QFont bold = author_->font();
    bold.setBold(true);
    author_->setFont(bold);
    header->addWidget(author_);
    stateTag_ = new QLabel(this);
    stateTag_->setObjectName(QStringLiteral("mutedLabel"));
    header->addWidget(stateTag_);
    header->addStretch(1);
    layout->addLayout(header);

    content_ = new CachedLabel(this);
    content_->setTextFormat(Qt::RichText);
    content_->setWordWrap(true);
    content_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    // Model output is untrusted: only web links open, never file:// or other schemes.
    content_->setOpenExternalLinks(false);
    connect(content_, &QLabel::linkActivated, this, [](const QString& link) {
        const QUrl url(link);
        if (isWebLink(url))
            QDesktopServices::openUrl(url);
    });

    renderTimer_ = new QTimer(this);
    renderTimer_->setSingleShot(true);
    renderTimer_->setInterval(kStreamRenderIntervalMs);
    connect(renderTimer_, &QTimer::timeout, this, &MessageBubble::render);
    content_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Minimum);
    layout->addWidget(content_);

    auto* footer = new QHBoxLayout;
    footer->setSpacing(2);
    stats_ = new QLabel(this);
    stats_->setObjectName(QStringLiteral("statsLabel"));
    footer->addWidget(stats_, 1);
    auto makeButton = [this, footer](const QString& tip) {
        auto* b = new QToolButton(this);
        b->setToolTip(tip);
        b->setAutoRaise(true);
        b->setIconSize(QSize(16, 16));
        footer->addWidget(b);
        return b;
    };
    copy_ = makeButton(tr("Copy"));
    edit_ = makeButton(tr("Edit and resend"));
    regenerate_ = makeButton(tr("Regenerate"));
    edit_->setVisible(role_ == QLatin1String("user"));
    regenerate_->setVisible(false);
    layout->addLayout(footer);
    connect(copy_, &QToolButton::clicked, this, [this] { emit copyRequested(id_); });
    connect(edit_, &QToolButton::clicked, this, [this] { emit editRequested(id_); });
    connect(regenerate_, &QToolButton::clicked, this, [this] { emit regenerateRequested(id_); });

    refreshIcons();
    setState(message.state);
    if (role_ == QLatin1String("assistant") && (message.stats.tokensOut > 0 || message.stats.tokensIn > 0))
        setStats(message.stats);
    // The set-up calls above skip rendering: the Markdown is parsed once per card, here.
    built_ = true;
    render();
}

void MessageBubble::refreshIcons()
{
    copy_->setIcon(themedIcon(IconKind::Copy));
    edit_->setIcon(themedIcon(IconKind::Edit));
    regenerate_->setIcon(themedIcon(IconKind::Regenerate));
    render(); // code block tints follow the palette too
}

int MessageBubble::preferredWidth(int maxWidth) const
{
    // The text's natural width is measured once per text (a Markdown parse and layout), not on
    // every resize or every card added to the transcript.
    if (idealTextWidth_ < 0) {
        QTextDocument doc;
        doc.setDefaultFont(content_->font());
        doc.setDocumentMargin(0);
        doc.setMarkdown(text_);
        idealTextWidth_ = int(std::ceil(doc.idealWidth()));
    }
    const int margins = layout()->contentsMargins().left() + layout()->contentsMargins().right();
    const int text = idealTextWidth_ + 8;
    const int chrome = std::max(author_->sizeHint().width(), 2 * 28 + 24); // author, action buttons
    return std::clamp(std::max(text, chrome) + margins, 160, std::max(160, maxWidth));
}

bool MessageBubble::isWebLink(const QUrl& url)
{
    const QString scheme = url.scheme().toLower();
    return url.isValid() && (scheme == QLatin1String("http") || scheme == QLatin1String("https"));
}

void MessageBubble::render()
{
    if (!built_)
        return;
    renderTimer_->stop();
    ++renderCount_;
    if (text_.isEmpty() && state_ == MessageState::Streaming)
        content_->setCachedText(QStringLiteral("…"));
    else
        content_->setCachedText(markdownToHtml(text_, palette()));
}

void MessageBubble::appendText(const QString& chunk)
{
    text_ += chunk;
    idealTextWidth_ = -1;
    // Rendering Markdown costs time proportional to the whole reply; while tokens stream in, the
    // chunks are gathered and rendered at most every kStreamRenderIntervalMs.
    if (!renderTimer_->isActive())
        renderTimer_->start();
}

void MessageBubble::setText(const QString& text)
{
    text_ = text;
    idealTextWidth_ = -1;
    render();
}

void MessageBubble::setState(MessageState state, const QString& detail)
{
    state_ = state;
    QString tag;
    switch (state) {
    case MessageState::Complete: break;
    case MessageState::Streaming: tag = tr("writing…"); break;
    case MessageState::Interrupted: tag = tr("interrupted — the app closed before this reply finished"); break;
    case MessageState::Stopped: tag = tr("stopped"); break;
    case MessageState::Error: tag = detail.isEmpty() ? tr("failed") : tr("failed: %1").arg(detail); break;
    }
    stateTag_->setText(tag);
    stateTag_->setWordWrap(state == MessageState::Error);
    stateTag_->setVisible(!tag.isEmpty());
    copy_->setVisible(state != MessageState::Streaming);
    render();
}

void MessageBubble::setStats(const MessageStats& stats)
{
    stats_->setText(formatStats(stats));
}

void MessageBubble::setRegenerateVisible(bool visible)
{
    regenerate_->setVisible(visible && role_ == QLatin1String("assistant"));
}

void MessageBubble::setActionsEnabled(bool enabled)
{
    edit_->setEnabled(enabled);
    regenerate_->setEnabled(enabled);
}

} // namespace tenfold::ui
