#pragma once
// A line under a text box with what the text costs in the loaded model: its tokens, the share of
// the model's context they fill and the estimated cost of sending them on this machine: the
// tokens x the machine's price per prompt token, from the loaded model's measured prompt speed
// and energy on this device (its rows in the usage ledger, read on the store thread) priced with
// the price table in effect (electricity and hardware amortisation, editable on the Cost history
// page; the line is redrawn with the current table whenever it is shown again). Counting runs on
// the Prompt lab's worker thread, a moment after typing stops, so long texts never slow typing.
#include "cost/price_table.h"
#include "cost/prompt_cost.h"

#include <QLabel>
#include <QTimer>

class QPlainTextEdit;

namespace tenfold::ui {

class AppContext;
class PromptLabHost;
struct PromptModelInfo;

class TokenCountLabel : public QLabel {
    Q_OBJECT
public:
    // Counts `editor`'s text with its own worker (the chat's composer).
    TokenCountLabel(AppContext& context, QPlainTextEdit* editor, QWidget* parent = nullptr);
    // Counts with a worker someone else owns and keeps on the loaded model (the Prompt lab).
    TokenCountLabel(AppContext& context, QPlainTextEdit* editor, PromptLabHost* host, QWidget* parent = nullptr);

    // The line for a count: "12 tokens · 0.6% of the 2,048-token context · ≈ 0.0000181 USD to
    // send on this machine (estimate)".
    static QString describe(int tokens, int contextSize, const cost::PromptTokenRate& rate,
                            const cost::PriceTable& prices);
    int tokens() const { return tokens_; }
    const cost::PromptTokenRate& rate() const { return rate_; }
    // Reads the loaded model's prompt rate from the ledger again (on the store thread).
    void refreshRate();

signals:
    void counted(int tokens);
    void rateChanged();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void connectHost();
    void followModel();
    void request();
    void render();

    AppContext& context_;
    QPlainTextEdit* editor_;
    PromptLabHost* host_;
    QTimer debounce_;
    quint64 lastId_ = 0;
    int tokens_ = -1;
    int contextSize_ = 0;
    cost::PromptTokenRate rate_;
    bool ready_ = false;
};

} // namespace tenfold::ui
