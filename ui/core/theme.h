#pragma once
// Light and dark palettes on the Fusion style. "System" keeps the palette the platform gave the
// application at start-up (Qt 6.4 has no colour-scheme notification, so we read it once).
#include "core/app_settings.h"

class QApplication;

namespace tenfold::ui {

// Call once, before the first window is created.
void initTheme(QApplication& app);
void applyTheme(QApplication& app, ThemeChoice choice);
bool isDarkPalette();

} // namespace tenfold::ui
