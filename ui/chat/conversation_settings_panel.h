#pragma once
// Per-conversation settings: the model, the system prompt, the sampling parameters and the draft
// model for speculative decoding. Edits are
// reported through changed(); the chat page saves them with the conversation.
#include "session/engine_types.h"
#include "store/store.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QSpinBox;

namespace tenfold::ui {

class AppContext;

class ConversationSettingsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ConversationSettingsPanel(AppContext& context, QWidget* parent = nullptr);

    void reloadModels();
    void setValues(const QString& modelPath, const QString& systemPrompt, const SamplingSettings& sampling);
    QString modelPath() const;
    void setModelPath(const QString& path);
    QString systemPrompt() const;
    SamplingSettings sampling() const;
    void setTemplateInfo(const QString& text);

    QComboBox* modelBox() const { return model_; }
    QPlainTextEdit* systemPromptEdit() const { return systemPrompt_; }
    QDoubleSpinBox* temperatureBox() const { return temperature_; }
    QSpinBox* maxTokensBox() const { return maxTokens_; }
    QSpinBox* seedBox() const { return seed_; }
    QComboBox* draftBox() const { return draft_; }
    QCheckBox* semanticCacheBox() const { return semanticCache_; }
    QDoubleSpinBox* similarityThresholdBox() const { return similarityThreshold_; }
    // Selects the draft model for speculative decoding (empty: off), adding it to the list when
    // it is not in the library.
    void setDraftModelPath(const QString& path);

signals:
    void changed();

private:
    void showModels(const std::vector<ModelRecord>& records);
    AppContext& context_;
    bool updating_ = false;
    QComboBox* model_ = nullptr;
    QLabel* templateInfo_ = nullptr;
    QPlainTextEdit* systemPrompt_ = nullptr;
    QDoubleSpinBox* temperature_ = nullptr;
    QSpinBox* topK_ = nullptr;
    QDoubleSpinBox* topP_ = nullptr;
    QDoubleSpinBox* minP_ = nullptr;
    QDoubleSpinBox* repeatPenalty_ = nullptr;
    QSpinBox* maxTokens_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QComboBox* draft_ = nullptr;
    QCheckBox* semanticCache_ = nullptr;
    QDoubleSpinBox* similarityThreshold_ = nullptr;
    int draftMax_ = 8; // kept as stored (no control yet: the default suits most pairs)
};

} // namespace tenfold::ui
