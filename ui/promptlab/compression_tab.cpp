#include "promptlab/compression_tab.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedBarSeries>
#include <QTextEdit>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tenfold::ui {

namespace {

const char* kSamplePrompt =
    "The old lighthouse stood on the rocky point for more than a hundred years. Every night the keeper "
    "climbed the narrow stairs, lit the great lamp and watched the ships pass safely into the harbour. "
    "One stormy winter the lamp went dark, and the village waited in fear until morning.\n"
    "Question: why did the village wait in fear?";

QPlainTextEdit* textBox(QWidget* parent, const QString& name, bool readOnly)
{
    auto* e = new QPlainTextEdit(parent);
    e->setReadOnly(readOnly);
    e->setTabChangesFocus(true);
    e->setAccessibleName(name);
    return e;
}

} // namespace

CompressionTab::CompressionTab(PromptLabHost& host, QWidget* parent) : QWidget(parent), host_(host)
{
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    auto* left = new QVBoxLayout;
    auto* inputLabel = new QLabel(tr("&Prompt to compress"), this);
    input_ = textBox(this, tr("Prompt to compress"), false);
    input_->setPlainText(QString::fromUtf8(kSamplePrompt));
    inputLabel->setBuddy(input_);
    left->addWidget(inputLabel);
    left->addWidget(input_, 1);
    top->addLayout(left, 3);

    auto* form = new QFormLayout;
    ratio_ = new QDoubleSpinBox(this);
    ratio_->setRange(0.05, 1.0);
    ratio_->setSingleStep(0.05);
    ratio_->setValue(0.5);
    ratio_->setToolTip(tr("Share of the prompt's tokens to keep"));
    form->addRow(tr("&Keep:"), ratio_);
    auto* scorerRow = new QHBoxLayout;
    scorer_ = new QLineEdit(this);
    scorer_->setPlaceholderText(tr("the loaded model"));
    scorer_->setToolTip(tr("A small model with the same vocabulary scores the tokens faster"));
    auto* browse = new QPushButton(tr("&Browse…"), this);
    scorerRow->addWidget(scorer_, 1);
    scorerRow->addWidget(browse);
    auto* scorerLabel = new QLabel(tr("&Scoring model:"), this);
    scorerLabel->setBuddy(scorer_);
    form->addRow(scorerLabel, scorerRow);
    answerTokens_ = new QSpinBox(this);
    answerTokens_->setRange(0, 512);
    answerTokens_->setValue(32);
    answerTokens_->setToolTip(tr("Tokens of the answer to compare (0: do not compare)"));
    form->addRow(tr("&Answer tokens:"), answerTokens_);
    auto* buttons = new QHBoxLayout;
    run_ = new QPushButton(tr("C&ompress"), this);
    run_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setShortcut(Qt::Key_Escape);
    cancel_->setEnabled(false);
    buttons->addWidget(run_);
    buttons->addWidget(cancel_);
    form->addRow(buttons);
    busy_ = new QProgressBar(this);
    busy_->setRange(0, 0);
    busy_->setVisible(false);
    stage_ = new QLabel(this);
    stage_->setWordWrap(true);
    form->addRow(busy_);
    form->addRow(stage_);
    top->addLayout(form, 2);
    layout->addLayout(top, 1);

    summary_ = new QLabel(this);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(summary_);

    auto* results = new QGridLayout;
    auto* markedLabel = new QLabel(tr("Original (dropped words struck out, kept questions and instructions in bold)"), this);
    marked_ = new QTextEdit(this);
    marked_->setReadOnly(true);
    marked_->setTabChangesFocus(true);
    marked_->setAccessibleName(tr("Original prompt with dropped words marked"));
    markedLabel->setBuddy(marked_);
    auto* outputLabel = new QLabel(tr("Compressed prompt"), this);
    output_ = textBox(this, tr("Compressed prompt"), true);
    outputLabel->setBuddy(output_);
    results->addWidget(markedLabel, 0, 0);
    results->addWidget(outputLabel, 0, 1);
    results->addWidget(marked_, 1, 0);
    results->addWidget(output_, 1, 1);
    auto* originalLabel = new QLabel(tr("Answer to the original"), this);
    originalAnswer_ = textBox(this, tr("Answer to the original"), true);
    auto* compressedLabel = new QLabel(tr("Answer to the compressed prompt"), this);
    compressedAnswer_ = textBox(this, tr("Answer to the compressed prompt"), true);
    results->addWidget(originalLabel, 2, 0);
    results->addWidget(compressedLabel, 2, 1);
    results->addWidget(originalAnswer_, 3, 0);
    results->addWidget(compressedAnswer_, 3, 1);
    layout->addLayout(results, 2);

    keptSet_ = new QBarSet(tr("Kept"));
    droppedSet_ = new QBarSet(tr("Dropped"));
    keptSet_->setColor(QColor(46, 125, 50));
    droppedSet_->setColor(QColor(189, 189, 189));
    auto* series = new QStackedBarSeries;
    series->append(keptSet_);
    series->append(droppedSet_);
    series->setBarWidth(1.0);
    auto* chart = new QChart;
    chart->addSeries(series);
    chart->setTitle(tr("Surprisal of each token (nats)"));
    tokenAxis_ = new QBarCategoryAxis;
    tokenAxis_->setLabelsVisible(false);
    chart->addAxis(tokenAxis_, Qt::AlignBottom);
    series->attachAxis(tokenAxis_);
    surprisalAxis_ = new QValueAxis;
    surprisalAxis_->setRange(0, 1);
    surprisalAxis_->setLabelFormat(QStringLiteral("%.0f"));
    chart->addAxis(surprisalAxis_, Qt::AlignLeft);
    series->attachAxis(surprisalAxis_);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setBackgroundVisible(false);
    chart_ = new QChartView(chart, this);
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(240);
    chart_->setAccessibleName(tr("Surprisal of each token, kept or dropped"));
    layout->addWidget(chart_, 2);

    connect(run_, &QPushButton::clicked, this, &CompressionTab::start);
    connect(cancel_, &QPushButton::clicked, this, [this] { host_.cancel(); });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Choose a scoring model"), QString(),
                                                          tr("GGUF models (*.gguf);;All files (*)"));
        if (!path.isEmpty())
            scorer_->setText(path);
    });
    connect(host_.worker(), &PromptLabWorker::progress, this, [this](quint64 id, const QString& stage) {
        if (id == lastId_)
            stage_->setText(stage);
    });
    connect(host_.worker(), &PromptLabWorker::compressed, this, [this](const CompressionReport& r) {
        if (r.id != lastId_)
            return;
        setBusy(false);
        stage_->clear();
        show(r);
        emit finished(true);
    });
    connect(host_.worker(), &PromptLabWorker::jobFailed, this, [this](quint64 id, const QString& message) {
        if (id != lastId_)
            return;
        setBusy(false);
        stage_->setText(message);
        emit finished(false);
    });
    setModelReady(false);
}

void CompressionTab::setModelReady(bool ready)
{
    ready_ = ready;
    run_->setEnabled(ready && !cancel_->isEnabled());
    if (!ready)
        stage_->setText(tr("Load a model to compress with."));
    else if (!cancel_->isEnabled())
        stage_->clear();
}

void CompressionTab::start()
{
    if (!ready_ || cancel_->isEnabled())
        return;
    // Ids from a range of their own, so the A/B tab's results never look like ours.
    lastId_ = (lastId_ + 1) | (quint64(1) << 62);
    setBusy(true, tr("Starting…"));
    host_.compress(lastId_, input_->toPlainText(), ratio_->value(), scorer_->text().trimmed(), answerTokens_->value());
}

void CompressionTab::setBusy(bool busy, const QString& stage)
{
    busy_->setVisible(busy);
    cancel_->setEnabled(busy);
    run_->setEnabled(!busy && ready_);
    if (!stage.isEmpty())
        stage_->setText(stage);
}

void CompressionTab::show(const CompressionReport& r)
{
    report_ = r;
    const QLocale locale;
    output_->setPlainText(r.compressed);
    QString line = tr("Tokens: %1 → %2 (%3% of the original; budget %4), %5 saved, scored in %6 s.")
                       .arg(r.originalTokens)
                       .arg(r.compressedTokens)
                       .arg(locale.toString(r.originalTokens ? 100.0 * r.compressedTokens / r.originalTokens : 0, 'f', 1))
                       .arg(r.tokenBudget)
                       .arg(r.originalTokens - r.compressedTokens)
                       .arg(locale.toString(r.seconds, 'f', 2));
    if (r.compared)
        line += QLatin1Char(' ') + tr("Answer change over %1 tokens: mean KL divergence %2 nats (max %3), same most likely token at %4% of them.")
                                       .arg(r.positions)
                                       .arg(locale.toString(r.meanKld, 'f', 4), locale.toString(r.maxKld, 'f', 4),
                                            locale.toString(100.0 * r.sameTopToken, 'f', 1));
    summary_->setText(line);
    originalAnswer_->setPlainText(r.compared ? r.originalAnswer : QString());
    compressedAnswer_->setPlainText(r.compared ? r.compressedAnswer : QString());

    marked_->clear();
    QTextCursor cursor(marked_->document());
    QTextCharFormat kept, dropped, guarded;
    dropped.setFontStrikeOut(true);
    dropped.setForeground(QColor(150, 150, 150));
    guarded.setFontWeight(QFont::Bold);
    for (const CompressedPiece& p : r.pieces)
        cursor.insertText(p.text, p.protectedSpan ? guarded : p.kept ? kept : dropped);

    keptSet_->remove(0, keptSet_->count());
    droppedSet_->remove(0, droppedSet_->count());
    QStringList categories;
    double top = 1;
    for (int i = 0; i < r.pieces.size(); ++i) {
        const double s = std::isfinite(r.pieces[i].surprisal) ? r.pieces[i].surprisal : 0.0;
        *keptSet_ << (r.pieces[i].kept ? s : 0.0);
        *droppedSet_ << (r.pieces[i].kept ? 0.0 : s);
        categories << QString::number(i + 1);
        top = std::max(top, s);
    }
    tokenAxis_->clear();
    tokenAxis_->append(categories);
    surprisalAxis_->setRange(0, std::ceil(top));
}

} // namespace tenfold::ui
