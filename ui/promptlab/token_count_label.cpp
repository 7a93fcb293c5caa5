#include "promptlab/token_count_label.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/store_worker.h"
#include "cost/price_settings.h"
#include "session/model_host.h"
#include "session/prompt_lab_worker.h"

#include <QLocale>
#include <QPlainTextEdit>

#include <cmath>

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
        refreshRate();
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
        render();
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

void TokenCountLabel::render()
{
    if (ready_ && tokens_ >= 0)
        setText(describe(tokens_, contextSize_, rate_, currentPriceTable(context_.settings())));
}

void TokenCountLabel::showEvent(QShowEvent* event)
{
    QLabel::showEvent(event);
    // Back from the Cost history page (an edited price table) or after replies (new ledger rows).
    refreshRate();
}

void TokenCountLabel::refreshRate()
{
    const auto& loaded = context_.host().loadedModel();
    if (!loaded)
        return;
    const std::string hash = loaded->modelHash.toStdString(), device = loaded->deviceTag.toStdString();
    context_.storeWorker().call<cost::PromptTokenRate>(
        this, [hash, device](Store& store) { return cost::promptTokenRate(store.usage(), hash, device); },
        [this](cost::PromptTokenRate rate) {
            rate_ = rate;
            render();
            emit rateChanged();
        },
        tr("the usage ledger"));
}

void TokenCountLabel::request()
{
    if (!ready_)
        return;
    host_->countTokens(++lastId_, editor_->toPlainText());
}

QString TokenCountLabel::describe(int tokens, int contextSize, const cost::PromptTokenRate& rate,
                                  const cost::PriceTable& prices)
{
    const QLocale locale;
    // Two strings rather than a plural form, so English reads "1 token" / "2 tokens" without an
    // English translation file.
    QString line = tokens == 1 ? tr("1 token") : tr("%1 tokens").arg(locale.toString(tokens));
    if (contextSize > 0)
        line += QStringLiteral(" · ") + tr("%1% of the %2-token context")
                                            .arg(locale.toString(100.0 * tokens / contextSize, 'f', 1),
                                                 locale.toString(contextSize));
    if (!rate.measured()) {
        line += QStringLiteral(" · ") + tr("cost: not measured yet (no runs of this model on this device)");
        return line;
    }
    const double cost = tokens * rate.costPerToken(prices);
    const int decimals = moneyDecimals(cost);
    line += QStringLiteral(" · ") + tr("≈ %1 %2 to send on this machine (estimate)")
                                        .arg(locale.toString(cost, 'f', decimals),
                                             QString::fromStdString(prices.currency));
    return line;
}

} // namespace tenfold::ui
