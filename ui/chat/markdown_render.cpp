#include "chat/markdown_render.h"

#include <QPalette>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextFrame>
#include <QTextTable>

namespace tenfold::ui {

QString markdownToHtml(const QString& markdown, const QPalette& palette)
{
    QTextDocument doc;
    doc.setMarkdown(markdown);
    const bool dark = palette.color(QPalette::Base).lightness() < 128;
    const QColor codeBackground = dark ? QColor(0x1b, 0x1d, 0x21) : QColor(0xf1, 0xf3, 0xf6);
    const QColor border = palette.color(QPalette::Mid);

    for (QTextBlock block = doc.begin(); block.isValid(); block = block.next()) {
        QTextBlockFormat format = block.blockFormat();
        if (!format.hasProperty(QTextFormat::BlockCodeFence) && !format.nonBreakableLines())
            continue;
        format.setBackground(codeBackground);
        format.setNonBreakableLines(false); // wrap long lines rather than overflow the card
        format.setLeftMargin(6);
        format.setRightMargin(6);
        QTextCursor(block).setBlockFormat(format);
    }
    for (QTextFrame* frame : doc.rootFrame()->childFrames()) {
        auto* table = qobject_cast<QTextTable*>(frame);
        if (!table)
            continue;
        QTextTableFormat format = table->format();
        format.setCellPadding(4);
        format.setCellSpacing(0);
        format.setBorder(1);
        format.setBorderBrush(border);
        format.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
        format.setBorderCollapse(true);
        table->setFormat(format);
    }
    return doc.toHtml();
}

} // namespace tenfold::ui
