#include "chat/composer.h"

#include <QKeyEvent>
#include <QTextBlock>

namespace tenfold::ui {

Composer::Composer(QWidget* parent) : QPlainTextEdit(parent)
{
    setTabChangesFocus(true);
    setPlaceholderText(tr("Write a message… (Enter sends, Shift+Enter adds a line)"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    connect(this, &QPlainTextEdit::textChanged, this, &Composer::adjustHeight);
    adjustHeight();
}

QSize Composer::sizeHint() const
{
    return QSize(400, height());
}

void Composer::adjustHeight()
{
    // Grow with the text up to eight lines, then scroll.
    const int lines = std::clamp(int(document()->lineCount()), 2, 8);
    const int h = fontMetrics().lineSpacing() * lines + 2 * int(document()->documentMargin()) + frameWidth() * 2 + 4;
    if (h != height())
        setFixedHeight(h);
}

void Composer::keyPressEvent(QKeyEvent* event)
{
    const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
    if (enter && !(event->modifiers() & Qt::ShiftModifier)) {
        emit sendRequested();
        return;
    }
    if (event->key() == Qt::Key_Escape) {
        emit escapePressed();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}

} // namespace tenfold::ui
