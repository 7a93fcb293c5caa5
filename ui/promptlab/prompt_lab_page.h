#pragma once
// Prompt lab: what a prompt costs and how to make it cheaper, on the loaded model. Four tabs: a
// token counter, the chat template preview (the exact text a conversation becomes, special
// tokens highlighted), prompt compression with its effect on the answer, and an A/B run of two
// prompt variants. The engine work runs on the lab's own thread (session/prompt_lab_worker.h).
#include "core/page.h"

class QLabel;
class QPlainTextEdit;
class QTabWidget;

namespace tenfold::ui {

class AbTab;
class CompressionTab;
class PromptLabHost;
class TemplatePreviewTab;
class TokenCountLabel;

class PromptLabPage : public Page {
    Q_OBJECT
public:
    PromptLabPage(AppContext& context, QWidget* parent = nullptr);
    ~PromptLabPage() override;
    QString pageId() const override { return QStringLiteral("promptlab"); }
    QString title() const override { return tr("Prompt lab"); }
    IconKind icon() const override { return IconKind::Edit; }

    QTabWidget* tabs() const { return tabs_; }
    QPlainTextEdit* counterEditor() const { return counterEditor_; }
    TokenCountLabel* counter() const { return counter_; }
    TemplatePreviewTab* templateTab() const { return templateTab_; }
    CompressionTab* compressionTab() const { return compressionTab_; }
    AbTab* abTab() const { return abTab_; }
    PromptLabHost* host() const { return host_; }
    QLabel* modelLabel() const { return model_; }
    bool modelReady() const { return ready_; }

signals:
    void modelReady(const QString& path);

private:
    AppContext& context_;
    PromptLabHost* host_ = nullptr;
    QLabel* model_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QPlainTextEdit* counterEditor_ = nullptr;
    TokenCountLabel* counter_ = nullptr;
    TemplatePreviewTab* templateTab_ = nullptr;
    CompressionTab* compressionTab_ = nullptr;
    AbTab* abTab_ = nullptr;
    bool ready_ = false;
};

} // namespace tenfold::ui
