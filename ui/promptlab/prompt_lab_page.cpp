#include "promptlab/prompt_lab_page.h"

#include "core/app_context.h"
#include "promptlab/ab_tab.h"
#include "promptlab/compression_tab.h"
#include "promptlab/template_preview_tab.h"
#include "promptlab/token_count_label.h"
#include "session/model_host.h"
#include "session/prompt_lab_worker.h"

#include <QLabel>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QVBoxLayout>

namespace tenfold::ui {

PromptLabPage::PromptLabPage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    host_ = new PromptLabHost(this);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(28, 24, 28, 24);
    auto* heading = new QLabel(tr("Prompt lab"), this);
    heading->setObjectName(QStringLiteral("pageTitle"));
    outer->addWidget(heading);
    model_ = new QLabel(this);
    model_->setObjectName(QStringLiteral("mutedLabel"));
    model_->setWordWrap(true);
    outer->addWidget(model_);

    tabs_ = new QTabWidget(this);
    auto* tokens = new QWidget(tabs_);
    auto* tokensLayout = new QVBoxLayout(tokens);
    auto* intro = new QLabel(tr("Type or paste a prompt: its tokens in the loaded model are counted as you type."), tokens);
    intro->setWordWrap(true);
    tokensLayout->addWidget(intro);
    counterEditor_ = new QPlainTextEdit(tokens);
    counterEditor_->setTabChangesFocus(true);
    counterEditor_->setAccessibleName(tr("Prompt to count"));
    tokensLayout->addWidget(counterEditor_, 1);
    counter_ = new TokenCountLabel(context_, counterEditor_, host_, tokens);
    tokensLayout->addWidget(counter_);
    tabs_->addTab(tokens, tr("&Tokens"));
    templateTab_ = new TemplatePreviewTab(*host_, tabs_);
    tabs_->addTab(templateTab_, tr("Te&mplate"));
    compressionTab_ = new CompressionTab(*host_, tabs_);
    tabs_->addTab(compressionTab_, tr("&Compression"));
    abTab_ = new AbTab(*host_, context_.settings(), tabs_);
    tabs_->addTab(abTab_, tr("&A/B"));
    outer->addWidget(tabs_, 1);

    model_->setText(tr("No model loaded. Load one on the Models page; the lab uses it on the CPU."));
    connect(host_->worker(), &PromptLabWorker::modelReady, this, [this](const PromptModelInfo& info) {
        ready_ = true;
        model_->setText(tr("%1 · chat template: %2 · the lab runs it on the CPU with a %3-token context")
                            .arg(info.name, info.templateName)
                            .arg(info.contextSize));
        templateTab_->setModel(info);
        compressionTab_->setModelReady(true);
        abTab_->setModelReady(true);
        emit modelReady(info.path);
    });
    connect(host_->worker(), &PromptLabWorker::modelFailed, this, [this](const QString& path, const QString& message) {
        ready_ = false;
        model_->setText(tr("Cannot open %1: %2").arg(path, message));
        compressionTab_->setModelReady(false);
        abTab_->setModelReady(false);
    });
    ModelHost& models = context_.host();
    connect(&models, &ModelHost::loaded, this, [this](const LoadedModel& m) { host_->setModel(m.path); });
    connect(&models, &ModelHost::unloaded, this, [this] {
        ready_ = false;
        host_->setModel(QString());
        model_->setText(tr("No model loaded. Load one on the Models page; the lab uses it on the CPU."));
        compressionTab_->setModelReady(false);
        abTab_->setModelReady(false);
    });
    if (const auto& loaded = models.loadedModel())
        host_->setModel(loaded->path);
}

PromptLabPage::~PromptLabPage() = default;

} // namespace tenfold::ui
