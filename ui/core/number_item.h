#pragma once
// A table cell that shows formatted text ("1,234.5 ms", "12.0 %") and sorts by the number behind
// it, so sortable tables order numbers as numbers, not as text.
#include <QTableWidgetItem>

namespace tenfold::ui {

class NumberItem : public QTableWidgetItem {
public:
    NumberItem(double value, const QString& text) : QTableWidgetItem(text)
    {
        setData(Qt::UserRole, value);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override
    {
        return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
    }
};

} // namespace tenfold::ui
