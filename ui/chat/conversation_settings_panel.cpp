#include "chat/conversation_settings_panel.h"

#include "core/app_context.h"
#include "store/store.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QVBoxLayout>

namespace tenfold::ui {

ConversationSettingsPanel::ConversationSettingsPanel(AppContext& context, QWidget* parent)
    : QWidget(parent), context_(context)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(14, 14, 14, 14);
    layout->setSpacing(8);
    auto* heading = new QLabel(tr("Conversation settings"), this);
    QFont f = heading->font();
    f.setBold(true);
    heading->setFont(f);
    layout->addWidget(heading);

    layout->addWidget(new QLabel(tr("Model"), this));
    model_ = new QComboBox(this);
    model_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    model_->setMinimumContentsLength(14);
    layout->addWidget(model_);
    templateInfo_ = new QLabel(this);
    templateInfo_->setObjectName(QStringLiteral("mutedLabel"));
    templateInfo_->setWordWrap(true);
    layout->addWidget(templateInfo_);

    layout->addWidget(new QLabel(tr("System prompt"), this));
    systemPrompt_ = new QPlainTextEdit(this);
    systemPrompt_->setPlaceholderText(tr("Optional instructions for the model"));
    systemPrompt_->setFixedHeight(90);
    layout->addWidget(systemPrompt_);

    auto* form = new QFormLayout;
    form->setVerticalSpacing(6);
    form->setHorizontalSpacing(10);
    auto makeDouble = [this](double lo, double hi, double step, int decimals) {
        auto* b = new QDoubleSpinBox(this);
        b->setRange(lo, hi);
        b->setSingleStep(step);
        b->setDecimals(decimals);
        return b;
    };
    temperature_ = makeDouble(0.0, 5.0, 0.05, 2);
    temperature_->setToolTip(tr("0 always picks the most likely token"));
    topK_ = new QSpinBox(this);
    topK_->setRange(0, 1000);
    topK_->setSpecialValueText(tr("off"));
    topP_ = makeDouble(0.0, 1.0, 0.01, 2);
    minP_ = makeDouble(0.0, 1.0, 0.01, 2);
    repeatPenalty_ = makeDouble(1.0, 3.0, 0.05, 2);
    repeatPenalty_->setSpecialValueText(tr("off"));
    repeatPenalty_->setToolTip(tr("Lowers the odds of tokens used recently. Off (1.00) by default; "
                                  "about 1.1 can stop a small model from repeating itself."));
    maxTokens_ = new QSpinBox(this);
    maxTokens_->setRange(1, 32768);
    seed_ = new QSpinBox(this);
    seed_->setRange(-1, std::numeric_limits<int>::max());
    seed_->setSpecialValueText(tr("random"));
    form->addRow(tr("Temperature"), temperature_);
    form->addRow(tr("Top-k"), topK_);
    form->addRow(tr("Top-p"), topP_);
    form->addRow(tr("Min-p"), minP_);
    form->addRow(tr("Repetition penalty"), repeatPenalty_);
    form->addRow(tr("Max tokens"), maxTokens_);
    form->addRow(tr("Seed"), seed_);
    layout->addLayout(form);

    layout->addWidget(new QLabel(tr("Draft model"), this));
    draft_ = new QComboBox(this);
    draft_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    draft_->setMinimumContentsLength(14);
    draft_->setToolTip(tr("Speculative decoding: a smaller model with the same vocabulary proposes "
                          "tokens that the conversation's model checks several at a time. The replies "
                          "stay the same; they may come faster."));
    layout->addWidget(draft_);

    // Exact repeats of a deterministic reply always come from the response cache; answering
    // from a merely similar question is lossy, so it is the conversation's choice.
    // The option's name is too long for the narrow panel on one line: a wrapping label names
    // the check box (its buddy and accessible name) instead of the box's own text.
    semanticCache_ = new QCheckBox(this);
    const QString semanticName = tr("Answer from similar earlier questions");
    semanticCache_->setAccessibleName(semanticName);
    semanticCache_->setToolTip(tr("For replies at temperature 0 or with a fixed seed: when an earlier "
                                  "question to this model was at least this similar (by the model's own "
                                  "embedding of the prompt), its stored answer is shown instead of a new one."));
    auto* semanticLabel = new QLabel(semanticName, this);
    semanticLabel->setWordWrap(true);
    semanticLabel->setBuddy(semanticCache_);
    semanticLabel->setToolTip(semanticCache_->toolTip());
    auto* semanticRow = new QHBoxLayout;
    semanticRow->addWidget(semanticCache_, 0, Qt::AlignTop);
    semanticRow->addWidget(semanticLabel, 1);
    layout->addLayout(semanticRow);
    auto* thresholdRow = new QFormLayout;
    similarityThreshold_ = new QDoubleSpinBox(this);
    similarityThreshold_->setRange(0.5, 1.0);
    similarityThreshold_->setDecimals(3);
    similarityThreshold_->setSingleStep(0.005);
    thresholdRow->addRow(tr("Similarity"), similarityThreshold_);
    layout->addLayout(thresholdRow);
    connect(semanticCache_, &QCheckBox::toggled, similarityThreshold_, &QWidget::setEnabled);
    layout->addStretch(1);

    auto emitChanged = [this] {
        if (!updating_)
            emit changed();
    };
    connect(model_, &QComboBox::currentIndexChanged, this, emitChanged);
    connect(draft_, &QComboBox::currentIndexChanged, this, emitChanged);
    connect(systemPrompt_, &QPlainTextEdit::textChanged, this, emitChanged);
    connect(semanticCache_, &QCheckBox::toggled, this, emitChanged);
    for (QDoubleSpinBox* b : {temperature_, topP_, minP_, repeatPenalty_, similarityThreshold_})
        connect(b, &QDoubleSpinBox::valueChanged, this, emitChanged);
    for (QSpinBox* b : {topK_, maxTokens_, seed_})
        connect(b, &QSpinBox::valueChanged, this, emitChanged);

    reloadModels();
    setValues(QString(), QString(), SamplingSettings());
}

void ConversationSettingsPanel::reloadModels()
{
    // Read on the store thread; the list is rebuilt when the records arrive, keeping whatever
    // model is chosen by then.
    context_.storeWorker().call<std::vector<ModelRecord>>(
        this, [](Store& store) { return store.models(); },
        [this](std::vector<ModelRecord> records) { showModels(records); }, tr("the model library"));
}

void ConversationSettingsPanel::showModels(const std::vector<ModelRecord>& records)
{
    const QString keep = modelPath(), keepDraft = draft_->currentData().toString();
    const bool wasUpdating = updating_;
    updating_ = true;
    model_->clear();
    model_->addItem(tr("Choose a model…"), QString());
    draft_->clear();
    draft_->addItem(tr("Off"), QString());
    for (const ModelRecord& r : records) {
        const QString path = QString::fromStdString(r.path);
        for (QComboBox* box : {model_, draft_}) {
            box->addItem(QString::fromStdString(r.name), path);
            box->setItemData(box->count() - 1, path, Qt::ToolTipRole);
        }
    }
    setModelPath(keep);
    setDraftModelPath(keepDraft);
    updating_ = wasUpdating;
}

void ConversationSettingsPanel::setModelPath(const QString& path)
{
    int index = model_->findData(path);
    if (index < 0 && !path.isEmpty()) {
        // A model that left the library still belongs to the conversation.
        model_->addItem(QFileInfo(path).completeBaseName(), path);
        index = model_->count() - 1;
    }
    model_->setCurrentIndex(std::max(0, index));
}

void ConversationSettingsPanel::setDraftModelPath(const QString& path)
{
    if (draft_->count() == 0)
        draft_->addItem(tr("Off"), QString());
    int index = draft_->findData(path);
    if (index < 0 && !path.isEmpty()) {
        draft_->addItem(QFileInfo(path).completeBaseName(), path);
        index = draft_->count() - 1;
    }
    draft_->setCurrentIndex(std::max(0, index));
}

void ConversationSettingsPanel::setValues(const QString& modelPath, const QString& systemPrompt,
                                          const SamplingSettings& s)
{
    updating_ = true;
    setModelPath(modelPath);
    systemPrompt_->setPlainText(systemPrompt);
    temperature_->setValue(s.temperature);
    topK_->setValue(s.topK);
    topP_->setValue(s.topP);
    minP_->setValue(s.minP);
    repeatPenalty_->setValue(s.repeatPenalty);
    maxTokens_->setValue(s.maxTokens);
    seed_->setValue(int(std::clamp<qint64>(s.seed, -1, std::numeric_limits<int>::max())));
    setDraftModelPath(s.draftModelPath);
    draftMax_ = s.draftMax;
    semanticCache_->setChecked(s.semanticCache);
    similarityThreshold_->setValue(s.similarityThreshold);
    similarityThreshold_->setEnabled(s.semanticCache);
    updating_ = false;
}

QString ConversationSettingsPanel::modelPath() const
{
    return model_->currentData().toString();
}

QString ConversationSettingsPanel::systemPrompt() const
{
    return systemPrompt_->toPlainText();
}

SamplingSettings ConversationSettingsPanel::sampling() const
{
    SamplingSettings s;
    s.temperature = temperature_->value();
    s.topK = topK_->value();
    s.topP = topP_->value();
    s.minP = minP_->value();
    s.repeatPenalty = repeatPenalty_->value();
    s.maxTokens = maxTokens_->value();
    s.seed = seed_->value();
    s.draftModelPath = draft_->currentData().toString();
    s.draftMax = draftMax_;
    s.semanticCache = semanticCache_->isChecked();
    s.similarityThreshold = similarityThreshold_->value();
    return s;
}

void ConversationSettingsPanel::setTemplateInfo(const QString& text)
{
    templateInfo_->setText(text);
    templateInfo_->setVisible(!text.isEmpty());
}

} // namespace tenfold::ui
