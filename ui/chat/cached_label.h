#pragma once
// A rich-text QLabel that remembers its size answers. QLabel lays its whole document out again
// (text shaping included) for every heightForWidth()/sizeHint() query, and a layout pass over the
// transcript asks every card several times: a streamed token or a new card then cost a re-layout
// of every message on screen. The answers only change with the text, the font or the style, so
// they are cached until one of those changes.
#include <QHash>
#include <QLabel>

namespace tenfold::ui {

class CachedLabel : public QLabel {
    Q_OBJECT
public:
    using QLabel::QLabel;

    // Use instead of QLabel::setText so the cached sizes are dropped.
    void setCachedText(const QString& text);

    int heightForWidth(int width) const override;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void changeEvent(QEvent* event) override;

private:
    void forget();

    mutable QHash<int, int> heights_;
    mutable QSize sizeHint_;
    mutable QSize minimumSizeHint_;
};

} // namespace tenfold::ui
