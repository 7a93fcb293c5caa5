#include "core/theme.h"

#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>
#include <QVariant>

namespace tenfold::ui {
namespace {

// The platform's palette, captured before Tenfold replaces it. Kept as a property of the
// application object so a second window (or test) in the same process still sees the original.
constexpr const char* kSystemPaletteProperty = "tenfoldSystemPalette";

QPalette systemPalette()
{
    const QVariant v = qApp->property(kSystemPaletteProperty);
    return v.isValid() ? v.value<QPalette>() : QApplication::palette();
}

QPalette lightPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0xf6, 0xf7, 0xf9));
    p.setColor(QPalette::WindowText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::Base, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::AlternateBase, QColor(0xf0, 0xf2, 0xf5));
    p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::ToolTipText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x91, 0x99));
    p.setColor(QPalette::Text, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::Button, QColor(0xf3, 0xf4, 0xf6));
    p.setColor(QPalette::ButtonText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xeb));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x2f, 0x6f, 0xeb));
    p.setColor(QPalette::Mid, QColor(0xd0, 0xd4, 0xda));
    p.setColor(QPalette::Midlight, QColor(0xe4, 0xe7, 0xeb));
    p.setColor(QPalette::Dark, QColor(0xa0, 0xa6, 0xad));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0xa0, 0xa6, 0xad));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0xa0, 0xa6, 0xad));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0xa0, 0xa6, 0xad));
    return p;
}

QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x1e, 0x20, 0x24));
    p.setColor(QPalette::WindowText, QColor(0xe6, 0xe8, 0xeb));
    p.setColor(QPalette::Base, QColor(0x26, 0x29, 0x2e));
    p.setColor(QPalette::AlternateBase, QColor(0x2c, 0x2f, 0x35));
    p.setColor(QPalette::ToolTipBase, QColor(0x2c, 0x2f, 0x35));
    p.setColor(QPalette::ToolTipText, QColor(0xe6, 0xe8, 0xeb));
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x91, 0x99));
    p.setColor(QPalette::Text, QColor(0xe6, 0xe8, 0xeb));
    p.setColor(QPalette::Button, QColor(0x2f, 0x33, 0x39));
    p.setColor(QPalette::ButtonText, QColor(0xe6, 0xe8, 0xeb));
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x4c, 0x8b, 0xf5));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xa0, 0xff));
    p.setColor(QPalette::Mid, QColor(0x3a, 0x3e, 0x45));
    p.setColor(QPalette::Midlight, QColor(0x34, 0x38, 0x3e));
    p.setColor(QPalette::Dark, QColor(0x14, 0x16, 0x19));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x70, 0x76, 0x7e));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x70, 0x76, 0x7e));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x70, 0x76, 0x7e));
    return p;
}

// Only what the palette cannot express: the sidebar, the banner and the chat cards.
QString styleSheet(bool dark)
{
    const QString sidebarBg = dark ? QStringLiteral("#17191c") : QStringLiteral("#eceef2");
    const QString hover = dark ? QStringLiteral("#262a30") : QStringLiteral("#e0e3e8");
    const QString selected = dark ? QStringLiteral("#2d3a52") : QStringLiteral("#d6e2fb");
    const QString selectedText = dark ? QStringLiteral("#e6ecff") : QStringLiteral("#173a8a");
    const QString muted = dark ? QStringLiteral("#9aa1aa") : QStringLiteral("#5f6670");
    const QString userBubble = dark ? QStringLiteral("#2b3a55") : QStringLiteral("#e3ecfd");
    const QString botBubble = dark ? QStringLiteral("#26292e") : QStringLiteral("#ffffff");
    const QString border = dark ? QStringLiteral("#3a3e45") : QStringLiteral("#dde1e6");
    const QString bannerBg = dark ? QStringLiteral("#5a2a22") : QStringLiteral("#fdecea");
    const QString bannerFg = dark ? QStringLiteral("#ffd9d2") : QStringLiteral("#7a1d12");
    const QString noticeBg = dark ? QStringLiteral("#4a4120") : QStringLiteral("#fff6d6");
    return QStringLiteral(R"(
#sidebarPanel { background: %1; border-right: 1px solid %8; }
#brand { font-size: 17pt; font-weight: 600; padding: 2px 8px 8px 8px; }
#sidebar { background: transparent; outline: 0; }
#sidebar::item { border-radius: 8px; padding: 4px 8px; margin: 1px 0; }
#sidebar::item:hover { background: %2; }
#sidebar::item:selected { background: %3; color: %4; }
#engineStatus { color: %5; font-size: 9pt; padding: 4px 8px; }
#banner { background: %9; color: %10; padding: 10px 16px; }
#pageTitle { font-size: 15pt; font-weight: 600; }
#mutedLabel, #statsLabel { color: %5; }
#statsLabel { font-size: 8.5pt; }
#userBubble { background: %6; border: 1px solid %8; border-radius: 12px; }
#assistantBubble { background: %7; border: 1px solid %8; border-radius: 12px; }
#notice { background: %11; border-radius: 6px; padding: 6px 10px; }
#transcript { background: transparent; }
#conversationList { border: 1px solid %8; border-radius: 8px; padding: 4px; }
#conversationList::item { padding: 7px 8px; border-radius: 6px; }
#conversationList::item:selected { background: %3; color: %4; }
#conversationList::item:hover:!selected { background: %2; }
QGroupBox { font-weight: 600; border: 1px solid %8; border-radius: 8px; margin-top: 16px; padding: 14px 10px 10px 10px; }
QGroupBox::title { subcontrol-origin: margin; subcontrol-position: top left; left: 10px; padding: 0 4px; }
)")
        .arg(sidebarBg, hover, selected, selectedText, muted, userBubble, botBubble, border, bannerBg, bannerFg,
             noticeBg);
}

} // namespace

void initTheme(QApplication& app)
{
    if (!app.property(kSystemPaletteProperty).isValid())
        app.setProperty(kSystemPaletteProperty, QVariant::fromValue(app.palette()));
    if (app.style()->name().compare(QLatin1String("fusion"), Qt::CaseInsensitive) != 0)
        app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
}

void applyTheme(QApplication& app, ThemeChoice choice)
{
    bool dark = false;
    switch (choice) {
    case ThemeChoice::Light: dark = false; break;
    case ThemeChoice::Dark: dark = true; break;
    case ThemeChoice::System: dark = systemPalette().color(QPalette::Window).lightness() < 128; break;
    }
    app.setPalette(dark ? darkPalette() : lightPalette());
    app.setStyleSheet(styleSheet(dark));
}

bool isDarkPalette()
{
    return QApplication::palette().color(QPalette::Window).lightness() < 128;
}

} // namespace tenfold::ui
