#include "core/icons.h"

#include <QApplication>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <QPixmap>
#include <cmath>

namespace tenfold::ui {
namespace {

// Draws on a 24x24 design grid; the painter is scaled to the pixmap size.
void drawGlyph(QPainter& p, IconKind kind)
{
    switch (kind) {
    case IconKind::Chat: {
        QPainterPath path;
        path.addRoundedRect(QRectF(3, 4, 18, 13), 4, 4);
        p.drawPath(path);
        p.drawLine(QPointF(8, 17), QPointF(6, 21));
        p.drawLine(QPointF(6, 21), QPointF(12, 17));
        p.drawLine(QPointF(8, 9), QPointF(16, 9));
        p.drawLine(QPointF(8, 12.5), QPointF(13, 12.5));
        break;
    }
    case IconKind::Models: {
        // A cube: the model file as a solid block.
        const QPointF top(12, 3), left(4, 7.5), right(20, 7.5), mid(12, 12), bl(4, 16.5), br(20, 16.5),
            bottom(12, 21);
        p.drawPolygon(QPolygonF({top, right, mid, left}));
        p.drawLine(left, bl);
        p.drawLine(bl, bottom);
        p.drawLine(bottom, br);
        p.drawLine(br, right);
        p.drawLine(mid, bottom);
        break;
    }
    case IconKind::Settings: {
        p.drawEllipse(QPointF(12, 12), 3, 3);
        QPainterPath gear;
        const int teeth = 8;
        for (int i = 0; i < teeth * 2; ++i) {
            const double a = i * M_PI / teeth;
            const double r = (i % 2 == 0) ? 9.0 : 6.8;
            const double a0 = a - M_PI / (teeth * 2.4), a1 = a + M_PI / (teeth * 2.4);
            const QPointF p0(12 + r * std::cos(a0), 12 + r * std::sin(a0));
            const QPointF p1(12 + r * std::cos(a1), 12 + r * std::sin(a1));
            if (i == 0) gear.moveTo(p0); else gear.lineTo(p0);
            gear.lineTo(p1);
        }
        gear.closeSubpath();
        p.drawPath(gear);
        break;
    }
    case IconKind::NewChat:
        p.drawRoundedRect(QRectF(3, 4, 16, 16), 3, 3);
        p.drawLine(QPointF(11, 8), QPointF(11, 16));
        p.drawLine(QPointF(7, 12), QPointF(15, 12));
        break;
    case IconKind::Send: {
        QPainterPath path;
        path.moveTo(3, 4);
        path.lineTo(21, 12);
        path.lineTo(3, 20);
        path.lineTo(6, 12);
        path.closeSubpath();
        p.drawPath(path);
        p.drawLine(QPointF(6, 12), QPointF(13, 12));
        break;
    }
    case IconKind::Stop:
        p.drawRoundedRect(QRectF(6, 6, 12, 12), 2, 2);
        break;
    case IconKind::Regenerate: {
        p.drawArc(QRectF(4, 4, 16, 16), 60 * 16, 290 * 16);
        p.drawLine(QPointF(16, 3.5), QPointF(16.5, 8));
        p.drawLine(QPointF(16.5, 8), QPointF(12, 8.5));
        break;
    }
    case IconKind::Copy:
        p.drawRoundedRect(QRectF(8, 8, 12, 13), 2, 2);
        p.drawPolyline(QPolygonF({QPointF(16, 5), QPointF(16, 3), QPointF(4, 3), QPointF(4, 16), QPointF(6, 16)}));
        break;
    case IconKind::Edit:
        p.drawPolygon(QPolygonF({QPointF(4, 20), QPointF(5, 15), QPointF(16, 4), QPointF(20, 8),
                                 QPointF(9, 19)}));
        p.drawLine(QPointF(14, 6), QPointF(18, 10));
        break;
    case IconKind::Delete:
        p.drawLine(QPointF(4, 6), QPointF(20, 6));
        p.drawLine(QPointF(9, 6), QPointF(10, 3));
        p.drawLine(QPointF(10, 3), QPointF(14, 3));
        p.drawLine(QPointF(14, 3), QPointF(15, 6));
        p.drawPolyline(QPolygonF({QPointF(6, 6), QPointF(7, 21), QPointF(17, 21), QPointF(18, 6)}));
        p.drawLine(QPointF(10, 10), QPointF(10, 17));
        p.drawLine(QPointF(14, 10), QPointF(14, 17));
        break;
    case IconKind::AddFile:
        p.drawPolygon(QPolygonF({QPointF(5, 3), QPointF(14, 3), QPointF(19, 8), QPointF(19, 21), QPointF(5, 21)}));
        p.drawPolyline(QPolygonF({QPointF(14, 3), QPointF(14, 8), QPointF(19, 8)}));
        p.drawLine(QPointF(12, 11), QPointF(12, 18));
        p.drawLine(QPointF(8.5, 14.5), QPointF(15.5, 14.5));
        break;
    case IconKind::AddFolder:
        p.drawPolygon(QPolygonF({QPointF(3, 5), QPointF(9, 5), QPointF(11, 7.5), QPointF(21, 7.5),
                                 QPointF(21, 19), QPointF(3, 19)}));
        p.drawLine(QPointF(12, 10), QPointF(12, 17));
        p.drawLine(QPointF(8.5, 13.5), QPointF(15.5, 13.5));
        break;
    case IconKind::Load: {
        QPainterPath path;
        path.moveTo(7, 4);
        path.lineTo(19, 12);
        path.lineTo(7, 20);
        path.closeSubpath();
        p.drawPath(path);
        break;
    }
    case IconKind::Unload:
        p.drawLine(QPointF(6, 6), QPointF(18, 18));
        p.drawLine(QPointF(18, 6), QPointF(6, 18));
        break;
    case IconKind::Info:
        p.drawEllipse(QPointF(12, 12), 9, 9);
        p.drawLine(QPointF(12, 11), QPointF(12, 17));
        p.drawPoint(QPointF(12, 7.5));
        break;
    case IconKind::Search:
        p.drawEllipse(QPointF(10, 10), 6, 6);
        p.drawLine(QPointF(14.5, 14.5), QPointF(20, 20));
        break;
    case IconKind::Warning:
        p.drawPolygon(QPolygonF({QPointF(12, 3), QPointF(21.5, 20), QPointF(2.5, 20)}));
        p.drawLine(QPointF(12, 9), QPointF(12, 14));
        p.drawPoint(QPointF(12, 17));
        break;
    case IconKind::Server:
        // Two stacked rack units with a status light each.
        p.drawRoundedRect(QRectF(3, 4, 18, 7), 2, 2);
        p.drawRoundedRect(QRectF(3, 13, 18, 7), 2, 2);
        p.drawPoint(QPointF(7, 7.5));
        p.drawPoint(QPointF(7, 16.5));
        p.drawLine(QPointF(12, 7.5), QPointF(17, 7.5));
        p.drawLine(QPointF(12, 16.5), QPointF(17, 16.5));
        break;
    case IconKind::Optimize:
        // A large block pressed into a small one: a file made smaller.
        p.drawRoundedRect(QRectF(3, 3, 11, 11), 1.5, 1.5);
        p.drawRoundedRect(QRectF(15, 15, 6, 6), 1, 1);
        p.drawLine(QPointF(12, 12), QPointF(17, 17));
        p.drawLine(QPointF(17, 17), QPointF(17, 13.5));
        p.drawLine(QPointF(17, 17), QPointF(13.5, 17));
        break;
    }
}

QPixmap renderGlyph(IconKind kind, const QColor& color, int size)
{
    QPixmap pm(size, size);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / 24.0, size / 24.0);
    QPen pen(color, 1.7, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    drawGlyph(p, kind);
    return pm;
}

} // namespace

QIcon makeIcon(IconKind kind, const QColor& color)
{
    QIcon icon;
    for (int size : {16, 20, 24, 32, 48})
        icon.addPixmap(renderGlyph(kind, color, size));
    QColor disabled = color;
    disabled.setAlphaF(0.35f);
    for (int size : {16, 24, 32})
        icon.addPixmap(renderGlyph(kind, disabled, size), QIcon::Disabled);
    return icon;
}

QIcon appIcon()
{
    QIcon icon;
    for (int size : {16, 32, 48, 64, 128, 256}) {
        QPixmap pm(size, size);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        p.scale(size / 256.0, size / 256.0);
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(0x2f, 0x6f, 0xeb));
        p.drawRoundedRect(QRectF(16, 16, 224, 224), 48, 48);
        p.setPen(QPen(Qt::white, 22, Qt::SolidLine, Qt::RoundCap));
        p.drawLine(QPointF(64, 84), QPointF(192, 84));
        p.drawLine(QPointF(128, 84), QPointF(128, 188));
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(0x9c, 0xc0, 0xff));
        p.drawEllipse(QPointF(188, 176), 18, 18);
        icon.addPixmap(pm);
    }
    return icon;
}

QIcon themedIcon(IconKind kind)
{
    return makeIcon(kind, QApplication::palette().color(QPalette::Text));
}

} // namespace tenfold::ui
