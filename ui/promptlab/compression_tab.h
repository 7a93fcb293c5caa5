#pragma once
// The Prompt lab's prompt compression: a small model scores every token's surprisal and the least
// surprising words are dropped to a target share of the tokens, questions and instructions kept
// whole (eval/prompt_compression.h). Shows the compressed prompt, the tokens saved, a chart of
// the surprisal of each token (kept or dropped), and what it did to the answer: the KL divergence
// along the original answer and both answers side by side, for the user to judge.
#include "session/prompt_lab_worker.h"

#include <QWidget>

class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextEdit;

QT_BEGIN_NAMESPACE
class QBarSet;
class QBarCategoryAxis;
class QChartView;
class QValueAxis;
QT_END_NAMESPACE

namespace tenfold::ui {

class CompressionTab : public QWidget {
    Q_OBJECT
public:
    CompressionTab(PromptLabHost& host, QWidget* parent = nullptr);
    void setModelReady(bool ready);

    QPlainTextEdit* input() const { return input_; }
    QDoubleSpinBox* ratio() const { return ratio_; }
    QLineEdit* scorer() const { return scorer_; }
    QSpinBox* answerTokens() const { return answerTokens_; }
    QPushButton* compressButton() const { return run_; }
    QPlainTextEdit* output() const { return output_; }
    QLabel* summary() const { return summary_; }
    const CompressionReport& lastReport() const { return report_; }
    void start();

signals:
    void finished(bool ok);

private:
    void show(const CompressionReport& report);
    void setBusy(bool busy, const QString& stage = QString());

    PromptLabHost& host_;
    QPlainTextEdit* input_ = nullptr;
    QDoubleSpinBox* ratio_ = nullptr;
    QLineEdit* scorer_ = nullptr;
    QSpinBox* answerTokens_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QProgressBar* busy_ = nullptr;
    QLabel* stage_ = nullptr;
    QTextEdit* marked_ = nullptr;
    QPlainTextEdit* output_ = nullptr;
    QLabel* summary_ = nullptr;
    QPlainTextEdit* originalAnswer_ = nullptr;
    QPlainTextEdit* compressedAnswer_ = nullptr;
    QBarSet* keptSet_ = nullptr;
    QBarSet* droppedSet_ = nullptr;
    QBarCategoryAxis* tokenAxis_ = nullptr;
    QValueAxis* surprisalAxis_ = nullptr;
    QChartView* chart_ = nullptr;
    quint64 lastId_ = 0;
    bool ready_ = false;
    CompressionReport report_;
};

} // namespace tenfold::ui
