#include "cost/price_settings.h"

#include "core/app_settings.h"
#include "core/error.h"

#include <QFile>
#include <QLocale>

#include <algorithm>
#include <cmath>

namespace tenfold::ui {

QString defaultPriceTableText()
{
    // An embedded resource: no disk I/O, safe on the GUI thread.
    QFile file(QStringLiteral(":/prices/prices.tsv"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readAll());
}

cost::PriceTable defaultPriceTable()
{
    try {
        return cost::PriceTable::parse(defaultPriceTableText().toStdString(), "prices.tsv");
    } catch (const std::exception&) {
        return {}; // the shipped file is tested (tst_cost_report); an empty table prices nothing
    }
}

cost::PriceTable currentPriceTable(const AppSettings& settings)
{
    const QString text = settings.priceTableText();
    if (!text.isEmpty()) {
        try {
            return cost::PriceTable::parse(text.toStdString(), "prices/table");
        } catch (const std::exception&) {
        }
    }
    return defaultPriceTable();
}

QString savePriceTable(AppSettings& settings, const QString& text)
{
    try {
        cost::PriceTable::parse(text.toStdString(), "prices");
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
    settings.setPriceTableText(text == defaultPriceTableText() ? QString() : text);
    settings.sync();
    return {};
}

int moneyDecimals(double amount)
{
    return amount > 0 ? std::clamp(2 - int(std::floor(std::log10(amount))), 2, 12) : 2;
}

QString moneyText(double amount, const QString& currency)
{
    return QStringLiteral("%1 %2").arg(QLocale().toString(amount, 'f', moneyDecimals(amount)), currency);
}

void resetPriceTable(AppSettings& settings)
{
    settings.setPriceTableText(QString());
    settings.sync();
}

} // namespace tenfold::ui
