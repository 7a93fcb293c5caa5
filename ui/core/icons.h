#pragma once
// Line icons drawn with QPainter in the palette's text colour, so they follow light and dark themes
// and need no image plugin or icon theme on the user's machine.
#include <QColor>
#include <QIcon>

namespace tenfold::ui {

enum class IconKind {
    Chat, Models, Settings, NewChat, Send, Stop, Regenerate, Copy, Edit, Delete, AddFile, AddFolder,
    Load, Unload, Info, Search, Warning, Server, Optimize,
};

QIcon makeIcon(IconKind kind, const QColor& color);
// The application icon (same design as installers/linux/tenfold.svg).
QIcon appIcon();
// The icon in the application palette's text colour.
QIcon themedIcon(IconKind kind);

} // namespace tenfold::ui
