#include "promptlab/template_preview_tab.h"

#include "session/prompt_lab_worker.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QTextEdit>
#include <QVBoxLayout>

#include <algorithm>

namespace tenfold::ui {

namespace {

constexpr int kDebounceMs = 250;

const char* kSampleConversation = R"([
  {"role": "system", "content": "You are a concise assistant."},
  {"role": "user", "content": "What is a chat template?"},
  {"role": "assistant", "content": "The format a chat model was trained on."},
  {"role": "user", "content": "Show me one."}
])";

QPlainTextEdit* codeEditor(QWidget* parent, const QString& accessibleName)
{
    auto* e = new QPlainTextEdit(parent);
    e->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    e->setLineWrapMode(QPlainTextEdit::NoWrap);
    e->setTabChangesFocus(true);
    e->setAccessibleName(accessibleName);
    return e;
}

} // namespace

TemplatePreviewTab::TemplatePreviewTab(PromptLabHost& host, QWidget* parent) : QWidget(parent), host_(host)
{
    auto* layout = new QVBoxLayout(this);
    auto* split = new QSplitter(Qt::Horizontal, this);

    auto* inputs = new QWidget(split);
    auto* in = new QVBoxLayout(inputs);
    in->setContentsMargins(0, 0, 0, 0);
    auto* sourceRow = new QHBoxLayout;
    auto* sourceLabel = new QLabel(tr("Chat &template (Jinja)"), inputs);
    modelTemplate_ = new QPushButton(tr("&Model's template"), inputs);
    modelTemplate_->setToolTip(tr("Put the loaded model's chat template back"));
    openFile_ = new QPushButton(tr("&Open file…"), inputs);
    sourceRow->addWidget(sourceLabel, 1);
    sourceRow->addWidget(modelTemplate_);
    sourceRow->addWidget(openFile_);
    in->addLayout(sourceRow);
    source_ = codeEditor(inputs, tr("Chat template"));
    sourceLabel->setBuddy(source_);
    in->addWidget(source_, 2);
    auto* convLabel = new QLabel(tr("&Conversation (OpenAI-style messages JSON, optional tools)"), inputs);
    in->addWidget(convLabel);
    conversation_ = codeEditor(inputs, tr("Conversation"));
    conversation_->setPlainText(QString::fromUtf8(kSampleConversation));
    convLabel->setBuddy(conversation_);
    in->addWidget(conversation_, 2);
    auto* form = new QFormLayout;
    generationPrompt_ = new QCheckBox(tr("Add the &generation prompt (the assistant's turn header)"), inputs);
    generationPrompt_->setChecked(true);
    form->addRow(generationPrompt_);
    bos_ = new QLineEdit(inputs);
    eos_ = new QLineEdit(inputs);
    form->addRow(tr("&BOS token:"), bos_);
    form->addRow(tr("&EOS token:"), eos_);
    in->addLayout(form);

    auto* output = new QWidget(split);
    auto* out = new QVBoxLayout(output);
    out->setContentsMargins(0, 0, 0, 0);
    auto* previewLabel = new QLabel(tr("&Rendered text (special tokens highlighted)"), output);
    out->addWidget(previewLabel);
    preview_ = new QTextEdit(output);
    preview_->setReadOnly(true);
    preview_->setAcceptRichText(false);
    preview_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    preview_->setLineWrapMode(QTextEdit::WidgetWidth);
    preview_->setTabChangesFocus(true);
    preview_->setAccessibleName(tr("Rendered text"));
    previewLabel->setBuddy(preview_);
    out->addWidget(preview_, 1);
    status_ = new QLabel(output);
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    out->addWidget(status_);
    split->addWidget(inputs);
    split->addWidget(output);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    debounce_.setSingleShot(true);
    debounce_.setInterval(kDebounceMs);
    connect(&debounce_, &QTimer::timeout, this, &TemplatePreviewTab::render);
    for (QPlainTextEdit* e : {source_, conversation_})
        connect(e, &QPlainTextEdit::textChanged, &debounce_, qOverload<>(&QTimer::start));
    for (QLineEdit* e : {bos_, eos_})
        connect(e, &QLineEdit::textChanged, &debounce_, qOverload<>(&QTimer::start));
    connect(generationPrompt_, &QCheckBox::toggled, &debounce_, qOverload<>(&QTimer::start));
    connect(modelTemplate_, &QPushButton::clicked, this, [this] {
        setTemplateSource(modelSource_);
        setSpecialTokens(modelBos_, modelEos_);
    });
    connect(openFile_, &QPushButton::clicked, this, &TemplatePreviewTab::openTemplateFile);
    connect(host_.worker(), &PromptLabWorker::fileRead, this,
            [this](const QString& path, const QString& text, const QString& error) {
                if (!error.isEmpty())
                    status_->setText(tr("Cannot read %1: %2").arg(path, error));
                else
                    setTemplateSource(text);
            });
    connect(host_.worker(), &PromptLabWorker::templateRendered, this, [this](quint64 id, const QString& text) {
        if (id == lastId_)
            show(text);
    });
    connect(host_.worker(), &PromptLabWorker::templateFailed, this, [this](quint64 id, const QString& message) {
        if (id != lastId_)
            return;
        preview_->clear();
        highlights_.clear();
        status_->setText(tr("The template failed: %1").arg(message));
        emit renderFailed(message);
    });
    modelTemplate_->setEnabled(false);
    status_->setText(tr("Load a model for its template, or open or type one."));
}

void TemplatePreviewTab::setModel(const PromptModelInfo& info)
{
    modelSource_ = info.templateSource;
    modelBos_ = info.bosToken;
    modelEos_ = info.eosToken;
    specialTokens_ = info.specialTokens;
    modelTemplate_->setEnabled(true);
    modelTemplate_->setToolTip(tr("Put the loaded model's chat template back (%1)").arg(info.templateName));
    setTemplateSource(modelSource_);
    setSpecialTokens(modelBos_, modelEos_);
}

void TemplatePreviewTab::setTemplateSource(const QString& source) { source_->setPlainText(source); }
void TemplatePreviewTab::setConversation(const QString& json) { conversation_->setPlainText(json); }
void TemplatePreviewTab::setAddGenerationPrompt(bool on) { generationPrompt_->setChecked(on); }

void TemplatePreviewTab::setSpecialTokens(const QString& bos, const QString& eos)
{
    bos_->setText(bos);
    eos_->setText(eos);
}

void TemplatePreviewTab::renderNow()
{
    debounce_.stop();
    render();
}

void TemplatePreviewTab::render()
{
    if (source_->toPlainText().isEmpty())
        return;
    status_->setText(tr("Rendering…"));
    host_.renderTemplate(++lastId_, source_->toPlainText(), conversation_->toPlainText(),
                         generationPrompt_->isChecked(), bos_->text(), eos_->text());
}

void TemplatePreviewTab::show(const QString& text)
{
    preview_->setPlainText(text);
    // Special tokens: the model's control and user-defined tokens, the BOS/EOS strings, and the
    // marker shapes chat formats use (<|...|>, [INST]-style tags, <start_of_turn>), so a template
    // opened without its model still shows its structure. Longest first, no overlaps.
    QStringList literals = specialTokens_;
    for (const QString& s : {bos_->text(), eos_->text(), QStringLiteral("<start_of_turn>"), QStringLiteral("<end_of_turn>")})
        if (!s.isEmpty())
            literals << s;
    std::sort(literals.begin(), literals.end(), [](const QString& a, const QString& b) { return a.size() > b.size(); });
    literals.removeDuplicates();
    QVector<bool> taken(text.size(), false);
    highlights_.clear();
    auto mark = [&](int start, int length) {
        for (int i = start; i < start + length; ++i)
            if (taken[i])
                return;
        for (int i = start; i < start + length; ++i)
            taken[i] = true;
        highlights_.push_back({start, start + length});
    };
    for (const QString& lit : literals)
        for (int at = text.indexOf(lit); at >= 0; at = text.indexOf(lit, at + lit.size()))
            mark(at, int(lit.size()));
    static const QRegularExpression shapes(QStringLiteral(R"(<\|[^<>|\s]{1,64}\|>|\[/?[A-Z][A-Z_]{1,30}\])"));
    for (auto it = shapes.globalMatch(text); it.hasNext();) {
        const auto m = it.next();
        mark(int(m.capturedStart()), int(m.capturedLength()));
    }
    std::sort(highlights_.begin(), highlights_.end());
    QTextCharFormat special;
    special.setBackground(QColor(255, 214, 102, 150));
    special.setForeground(QColor(120, 60, 0));
    special.setFontWeight(QFont::Bold);
    QTextCursor cursor(preview_->document());
    for (const auto& [b, e] : highlights_) {
        cursor.setPosition(b);
        cursor.setPosition(e, QTextCursor::KeepAnchor);
        cursor.mergeCharFormat(special);
    }
    status_->setText(tr("Characters: %1 · special tokens highlighted: %2")
                         .arg(QLocale().toString(text.size()), QLocale().toString(highlights_.size())));
    emit rendered();
}

void TemplatePreviewTab::openTemplateFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a chat template"), QString(),
                                                      tr("Jinja templates (*.jinja *.j2 *.txt);;All files (*)"));
    if (path.isEmpty())
        return;
    host_.readFile(path);
}

} // namespace tenfold::ui
