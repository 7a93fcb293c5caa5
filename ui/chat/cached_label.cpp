#include "chat/cached_label.h"

#include <QEvent>

namespace tenfold::ui {

namespace {
// A transcript asks for a handful of widths (the card's, its minimum, the viewport's); more
// means the window is being resized, when old widths are useless anyway.
constexpr int kMaxCachedWidths = 8;
}

void CachedLabel::forget()
{
    heights_.clear();
    sizeHint_ = QSize();
    minimumSizeHint_ = QSize();
}

void CachedLabel::setCachedText(const QString& text)
{
    forget();
    setText(text);
}

int CachedLabel::heightForWidth(int width) const
{
    const auto it = heights_.constFind(width);
    if (it != heights_.constEnd())
        return *it;
    if (heights_.size() >= kMaxCachedWidths)
        heights_.clear();
    const int height = QLabel::heightForWidth(width);
    heights_.insert(width, height);
    return height;
}

QSize CachedLabel::sizeHint() const
{
    if (!sizeHint_.isValid())
        sizeHint_ = QLabel::sizeHint();
    return sizeHint_;
}

QSize CachedLabel::minimumSizeHint() const
{
    if (!minimumSizeHint_.isValid())
        minimumSizeHint_ = QLabel::minimumSizeHint();
    return minimumSizeHint_;
}

void CachedLabel::changeEvent(QEvent* event)
{
    switch (event->type()) {
    case QEvent::FontChange:
    case QEvent::StyleChange:
    case QEvent::ContentsRectChange:
        forget();
        break;
    default:
        break;
    }
    QLabel::changeEvent(event);
}

} // namespace tenfold::ui
