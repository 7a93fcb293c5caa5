#pragma once
// Markdown to the rich text a QLabel shows: QTextDocument parses it (CommonMark + GitHub tables),
// then code blocks get a tinted background and wrap instead of widening the card, and tables get
// cell padding and thin borders.
#include <QString>

class QPalette;

namespace tenfold::ui {

QString markdownToHtml(const QString& markdown, const QPalette& palette);

} // namespace tenfold::ui
