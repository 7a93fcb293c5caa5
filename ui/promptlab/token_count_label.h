#pragma once
// A line under a text box with what the text costs in the loaded model: its tokens, the share of
// the model's context they fill and, when a price is set (AppSettings prices/...), the estimated
// cost of sending them. Counting runs on the Prompt lab's worker thread, a moment after typing
// stops, so long texts never slow down typing.
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

    // The line for a count: "12 tokens · 0.6% of the 2,048-token context · ≈ $0.000002 to send".
    static QString describe(int tokens, int contextSize, double pricePerMillion, const QString& currency);
    int tokens() const { return tokens_; }

signals:
    void counted(int tokens);

private:
    void connectHost();
    void followModel();
    void request();

    AppContext& context_;
    QPlainTextEdit* editor_;
    PromptLabHost* host_;
    QTimer debounce_;
    quint64 lastId_ = 0;
    int tokens_ = -1;
    int contextSize_ = 0;
    bool ready_ = false;
};

} // namespace tenfold::ui
