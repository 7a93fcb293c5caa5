#include "promptlab/token_count_label.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "session/model_host.h"
#include "session/prompt_lab_worker.h"

#include <QLocale>
#include <QPlainTextEdit>

namespace tenfold::ui {

namespace {
constexpr int kDebounceMs = 150;
}

TokenCountLabel::TokenCountLabel(AppContext& context, QPlainTextEdit* editor, QWidget* parent)
    : TokenCountLabel(context, editor, new PromptLabHost, parent)
{
    host_->setParent(this);
    followModel();
}

TokenCountLabel::TokenCountLabel(AppContext& context, QPlainTextEdit* editor, PromptLabHost* host, QWidget* parent)
    : QLabel(parent), context_(context), editor_(editor), host_(host)
{
    setObjectName(QStringLiteral("mutedLabel"));
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    setWordWrap(true);
    debounce_.setSingleShot(true);
    debounce_.setInterval(kDebounceMs);
    connect(&debounce_, &QTimer::timeout, this, &TokenCountLabel::request);
    connect(editor_, &QPlainTextEdit::textChanged, &debounce_, qOverload<>(&QTimer::start));
    connectHost();
    setText(tr("No model loaded: tokens are counted with the loaded model."));
}

void TokenCountLabel::connectHost()
{
    connect(host_->worker(), &PromptLabWorker::modelReady, this, [this](const PromptModelInfo& info) {
        ready_ = true;
        contextSize_ = info.contextSize;
        // The chat's context, when the user chose one, is what the message must fit.
        if (const int chosen = context_.settings().contextSize(); chosen > 0)
            contextSize_ = chosen;
        request();
    });
    connect(host_->worker(), &PromptLabWorker::modelFailed, this, [this](const QString&, const QString& message) {
        ready_ = false;
        setText(tr("Cannot count tokens: %1").arg(message));
    });
    connect(host_->worker(), &PromptLabWorker::tokensCounted, this, [this](quint64 id, int tokens) {
        if (id != lastId_)
            return; // an older count, overtaken by typing
        tokens_ = tokens;
        setText(describe(tokens, contextSize_, context_.settings().inputPricePerMillionTokens(),
                         context_.settings().priceCurrency()));
        emit counted(tokens);
    });
}

void TokenCountLabel::followModel()
{
    ModelHost& models = context_.host();
    connect(&models, &ModelHost::loaded, this, [this](const LoadedModel& m) { host_->setModel(m.path); });
    connect(&models, &ModelHost::unloaded, this, [this] {
        ready_ = false;
        host_->setModel(QString());
        setText(tr("No model loaded: tokens are counted with the loaded model."));
    });
    if (const auto& loaded = models.loadedModel())
        host_->setModel(loaded->path);
}

void TokenCountLabel::request()
{
    if (!ready_)
        return;
    host_->countTokens(++lastId_, editor_->toPlainText());
}

QString TokenCountLabel::describe(int tokens, int contextSize, double pricePerMillion, const QString& currency)
{
    const QLocale locale;
    // Two strings rather than a plural form, so English reads "1 token" / "2 tokens" without an
    // English translation file.
    QString line = tokens == 1 ? tr("1 token") : tr("%1 tokens").arg(locale.toString(tokens));
    if (contextSize > 0)
        line += QStringLiteral(" · ") + tr("%1% of the %2-token context")
                                            .arg(locale.toString(100.0 * tokens / contextSize, 'f', 1),
                                                 locale.toString(contextSize));
    if (pricePerMillion > 0) {
        const double cost = tokens * pricePerMillion / 1e6;
        line += QStringLiteral(" · ") + tr("≈ %1%2 to send").arg(currency, locale.toString(cost, 'f', cost < 0.01 ? 6 : 4));
    } else {
        line += QStringLiteral(" · ") + tr("no price set");
    }
    return line;
}

} // namespace tenfold::ui
