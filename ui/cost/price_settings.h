#pragma once
// The price table in use: the shipped defaults (resources/prices/prices.tsv, embedded as
// :/prices/prices.tsv) unless the user saved an edited table in the app settings (prices/table).
// Anything that shows a cost reads it here, e.g. the price of sending N prompt tokens to a cloud
// model: currentPriceTable(settings).cloudPrice(name)->inputPerMillion * N / 1e6.
#include "cost/price_table.h"

#include <QString>

namespace tenfold::ui {

class AppSettings;

// The shipped defaults' text (from the embedded resource).
QString defaultPriceTableText();
cost::PriceTable defaultPriceTable();
// The user's table when one is saved and parses, else the defaults.
cost::PriceTable currentPriceTable(const AppSettings& settings);
// Validates and saves `text` as the user's table; returns the parse error, empty on success.
QString savePriceTable(AppSettings& settings, const QString& text);
// Back to the shipped defaults.
void resetPriceTable(AppSettings& settings);
// Decimals that show three significant digits of an amount however small (a short prompt costs
// millionths), at least two.
int moneyDecimals(double amount);
// "0.0000123 USD": the amount with moneyDecimals, then the currency.
QString moneyText(double amount, const QString& currency);

} // namespace tenfold::ui
