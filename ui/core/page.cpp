#include "core/page.h"

#include <QEvent>

namespace tenfold::ui {

void Page::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange)
        refreshIcons();
    QWidget::changeEvent(event);
}

} // namespace tenfold::ui
