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

// One theme's colours (0xRRGGBB). BrightText and HighlightedText are white in both themes.
struct PaletteColors {
    QRgb window;
    QRgb windowText;
    QRgb base;
    QRgb alternateBase;
    QRgb toolTipBase;
    QRgb toolTipText;
    QRgb placeholderText;
    QRgb text;
    QRgb button;
    QRgb buttonText;
    QRgb highlight;
    QRgb link;
    QRgb mid;
    QRgb midlight;
    QRgb dark;
    QRgb disabledText;
    QRgb disabledButtonText;
    QRgb disabledWindowText;
};

constexpr PaletteColors kLightColors = {
    .window = 0xf6f7f9,
    .windowText = 0x1f2328,
    .base = 0xffffff,
    .alternateBase = 0xf0f2f5,
    .toolTipBase = 0xffffff,
    .toolTipText = 0x1f2328,
    .placeholderText = 0x8a9199,
    .text = 0x1f2328,
    .button = 0xf3f4f6,
    .buttonText = 0x1f2328,
    .highlight = 0x2f6feb,
    .link = 0x2f6feb,
    .mid = 0xd0d4da,
    .midlight = 0xe4e7eb,
    .dark = 0xa0a6ad,
    .disabledText = 0xa0a6ad,
    .disabledButtonText = 0xa0a6ad,
    .disabledWindowText = 0xa0a6ad,
};

constexpr PaletteColors kDarkColors = {
    .window = 0x1e2024,
    .windowText = 0xe6e8eb,
    .base = 0x26292e,
    .alternateBase = 0x2c2f35,
    .toolTipBase = 0x2c2f35,
    .toolTipText = 0xe6e8eb,
    .placeholderText = 0x8a9199,
    .text = 0xe6e8eb,
    .button = 0x2f3339,
    .buttonText = 0xe6e8eb,
    .highlight = 0x4c8bf5,
    .link = 0x6ca0ff,
    .mid = 0x3a3e45,
    .midlight = 0x34383e,
    .dark = 0x141619,
    .disabledText = 0x70767e,
    .disabledButtonText = 0x70767e,
    .disabledWindowText = 0x70767e,
};

QPalette makePalette(const PaletteColors& c)
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(c.window));
    p.setColor(QPalette::WindowText, QColor(c.windowText));
    p.setColor(QPalette::Base, QColor(c.base));
    p.setColor(QPalette::AlternateBase, QColor(c.alternateBase));
    p.setColor(QPalette::ToolTipBase, QColor(c.toolTipBase));
    p.setColor(QPalette::ToolTipText, QColor(c.toolTipText));
    p.setColor(QPalette::PlaceholderText, QColor(c.placeholderText));
    p.setColor(QPalette::Text, QColor(c.text));
    p.setColor(QPalette::Button, QColor(c.button));
    p.setColor(QPalette::ButtonText, QColor(c.buttonText));
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(c.highlight));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(c.link));
    p.setColor(QPalette::Mid, QColor(c.mid));
    p.setColor(QPalette::Midlight, QColor(c.midlight));
    p.setColor(QPalette::Dark, QColor(c.dark));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(c.disabledText));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(c.disabledButtonText));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(c.disabledWindowText));
    return p;
}

QPalette lightPalette() { return makePalette(kLightColors); }
QPalette darkPalette() { return makePalette(kDarkColors); }

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
