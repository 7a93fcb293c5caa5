#include "session/prompt_lab_worker.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "cost/energy_meter.h"
#include "eval/prompt_compression.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"
#include "tokenizer/tokenizer.h"

#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <chrono>

namespace tenfold::ui {

namespace {

// The lab's context: enough for long prompts and A/B runs without the KV cache of a model's full
// training context (131072 positions for Llama 3.1).
constexpr int kLabContext = 4096;

QString qs(const std::string& s) { return QString::fromStdString(s); }

double msSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

PromptLabWorker::PromptLabWorker(std::shared_ptr<std::atomic<bool>> cancel, QObject* parent)
    : QObject(parent), cancel_(std::move(cancel))
{
}

PromptLabWorker::~PromptLabWorker() = default;

void PromptLabWorker::setModel(const QString& path)
{
    scorerContext_.reset();
    scorer_.reset();
    scorerPath_.clear();
    context_.reset();
    backend_.reset();
    model_.reset();
    modelPath_ = path;
    if (path.isEmpty())
        return;
    try {
        model_ = Model::loadGGUF(path.toStdString());
        PromptModelInfo info;
        info.path = path;
        info.name = qs(model_->displayName());
        info.contextSize = std::min(kLabContext, std::max(1, int(model_->hparams().nCtxTrain)));
        ChatModelInfo chat;
        chat.name = model_->displayName();
        chat.architecture = model_->hparams().architecture;
        if (const GGUFFile* file = model_->gguf())
            chat.chatTemplate = file->getString("tokenizer.chat_template");
        const ChatTemplate tmpl = selectChatTemplate(chat);
        info.templateSource = qs(tmpl.source());
        info.templateName = qs(tmpl.name());
        const Tokenizer& tok = model_->tokenizer();
        if (tok.bos() >= 0)
            info.bosToken = qs(tok.piece(tok.bos()));
        if (tok.eos() >= 0)
            info.eosToken = qs(tok.piece(tok.eos()));
        for (int32_t id = 0; id < tok.vocabSize(); ++id) {
            const TokenType type = tok.tokenType(id);
            if ((type == TokenType::Control || type == TokenType::UserDefined) && !tok.piece(id).empty())
                info.specialTokens << qs(tok.piece(id));
        }
        emit modelReady(info);
    } catch (const std::exception& e) {
        model_.reset();
        emit modelFailed(path, qs(e.what()));
    }
}

void PromptLabWorker::countTokens(quint64 id, const QString& text)
{
    if (!model_)
        return;
    // No BOS: the count is what the text itself costs; templates add their own markers.
    emit tokensCounted(id, int(model_->tokenizer().encode(text.toStdString(), false).size()));
}

void PromptLabWorker::readFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        emit fileRead(path, QString(), f.errorString());
        return;
    }
    emit fileRead(path, QString::fromUtf8(f.readAll()), QString());
}

void PromptLabWorker::renderTemplate(quint64 id, const QString& templateSource, const QString& conversationJson,
                                     bool addGenerationPrompt, const QString& bos, const QString& eos)
{
    try {
        const ChatTemplate tmpl(templateSource.toStdString(), "prompt lab");
        ChatRenderOptions options;
        options.addGenerationPrompt = addGenerationPrompt;
        options.bosToken = bos.toStdString();
        options.eosToken = eos.toStdString();
        options.defineDateString = false;
        emit templateRendered(id, qs(tmpl.renderJson(conversationJson.toStdString(), options)));
    } catch (const std::exception& e) {
        emit templateFailed(id, qs(e.what()));
    }
}

InferenceContext& PromptLabWorker::context()
{
    if (!model_)
        throw InvalidArgument("no model is loaded");
    if (!context_) {
        backend_ = createCpuBackend(0);
        ContextParams params;
        params.nCtx = std::min(kLabContext, std::max(1, int(model_->hparams().nCtxTrain)));
        context_ = backend_->createContext(model_, params);
    }
    return *context_;
}

void PromptLabWorker::compress(quint64 id, const QString& text, double keepRatio, const QString& scorerPath,
                               int continueTokens)
{
    try {
        InferenceContext& ctx = context();
        InferenceContext* scorerCtx = &ctx;
        const Tokenizer* scorerTok = &model_->tokenizer();
        if (!scorerPath.isEmpty() &&
            QFileInfo(scorerPath).canonicalFilePath() != QFileInfo(modelPath_).canonicalFilePath()) {
            if (scorerPath != scorerPath_) {
                emit progress(id, tr("Opening the scoring model"));
                scorerContext_.reset();
                scorer_ = Model::loadGGUF(scorerPath.toStdString());
                if (scorer_->hparams().nVocab != model_->hparams().nVocab)
                    throw InvalidArgument(tr("the scoring model has a vocabulary of %1 tokens, the loaded model %2")
                                              .arg(scorer_->hparams().nVocab)
                                              .arg(model_->hparams().nVocab)
                                              .toStdString());
                ContextParams params;
                params.nCtx = std::min(kLabContext, std::max(1, int(scorer_->hparams().nCtxTrain)));
                scorerContext_ = backend_->createContext(scorer_, params);
                scorerPath_ = scorerPath;
            }
            scorerCtx = scorerContext_.get();
            scorerTok = &scorer_->tokenizer();
        }
        emit progress(id, tr("Scoring the prompt"));
        const auto t0 = std::chrono::steady_clock::now();
        CompressionOptions options;
        options.keepRatio = keepRatio;
        const CompressionResult result = compressPrompt(*scorerCtx, *scorerTok, text.toStdString(), options, cancel_.get());
        CompressionReport report;
        report.id = id;
        report.seconds = msSince(t0) / 1000.0;
        report.compressed = qs(result.text);
        report.originalTokens = result.originalTokens;
        report.compressedTokens = result.compressedTokens;
        report.tokenBudget = result.tokenBudget;
        for (const ScoredToken& t : result.tokens)
            report.pieces.push_back({qs(scorerTok->tokenBytes(t.id)), t.surprisal, t.kept, t.protectedSpan});
        if (continueTokens > 0) {
            emit progress(id, tr("Comparing the answers"));
            const ContinuationComparison cmp = compareContinuations(ctx, model_->tokenizer(), text.toStdString(),
                                                                    result.text, continueTokens, cancel_.get());
            report.compared = true;
            report.positions = cmp.positions;
            report.meanKld = cmp.meanKld;
            report.maxKld = cmp.maxKld;
            report.sameTopToken = cmp.sameTopToken;
            report.originalAnswer = qs(cmp.originalContinuation);
            report.compressedAnswer = qs(cmp.compressedContinuation);
        }
        emit compressed(report);
    } catch (const Cancelled&) {
        emit jobFailed(id, tr("Cancelled"));
    } catch (const std::exception& e) {
        emit jobFailed(id, qs(e.what()));
    }
}

AbSide PromptLabWorker::runOne(const QString& prompt, int tokens)
{
    InferenceContext& ctx = context();
    const Tokenizer& tok = model_->tokenizer();
    std::vector<int32_t> ids = tok.encode(prompt.toStdString(), true);
    if (ids.empty())
        throw InvalidArgument(tr("a prompt is empty").toStdString());
    if (int(ids.size()) + tokens > ctx.contextSize())
        throw InvalidArgument(tr("a prompt of %1 tokens plus %2 to generate does not fit the context (%3)")
                                  .arg(ids.size())
                                  .arg(tokens)
                                  .arg(ctx.contextSize())
                                  .toStdString());
    AbSide side;
    side.promptTokens = int(ids.size());
    std::vector<float> logits;
    ctx.truncate(0);
    if (!energyMeter_)
        energyMeter_ = std::make_unique<cost::EnergyMeter>(cost::RaplReader::open(), cost::Wattage{});
    const cost::EnergyMeter::Mark energyMark = energyMeter_->start();
    auto t0 = std::chrono::steady_clock::now();
    ctx.decode(ids, false, logits, cancel_.get());
    side.prefillMs = msSince(t0);
    t0 = std::chrono::steady_clock::now();
    StreamingDecoder decoder(tok);
    std::string out;
    for (int k = 0; k < tokens; ++k) {
        if (cancel_->load())
            throw Cancelled();
        const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        if (tok.isEndOfGeneration(next))
            break;
        out += decoder.push(next);
        ++side.outputTokens;
        if (k + 1 < tokens) {
            const int32_t one[1] = {next};
            ctx.decode(one, false, logits, cancel_.get());
        }
    }
    side.decodeMs = msSince(t0);
    const cost::EnergyReading energy = energyMeter_->since(energyMark, false); // the lab runs on the CPU
    side.joules = energy.joules;
    side.energyEstimated = energy.source != "rapl";
    side.output = qs(out + decoder.flush());
    ctx.truncate(0);
    return side;
}

QString abPrompt(const QString& variant, const QString& input)
{
    static const QString placeholder = QStringLiteral("{input}");
    if (variant.contains(placeholder))
        return QString(variant).replace(placeholder, input);
    return variant + QLatin1Char('\n') + input;
}

void PromptLabWorker::runAb(quint64 id, const QString& promptA, const QString& promptB, int tokens,
                            const QStringList& inputs)
{
    try {
        AbReport report;
        report.id = id;
        if (inputs.isEmpty()) {
            emit progress(id, tr("Running prompt A"));
            report.a = runOne(promptA, tokens);
            emit progress(id, tr("Running prompt B"));
            report.b = runOne(promptB, tokens);
            emit abFinished(report);
            return;
        }
        auto addTo = [](AbSide& total, const AbSide& one) {
            // The total is an estimate when any of its runs was (the first run sets it).
            total.energyEstimated = total.promptTokens == 0 ? one.energyEstimated
                                                            : total.energyEstimated || one.energyEstimated;
            total.promptTokens += one.promptTokens;
            total.outputTokens += one.outputTokens;
            total.prefillMs += one.prefillMs;
            total.decodeMs += one.decodeMs;
            total.joules += one.joules;
            total.output += (total.output.isEmpty() ? QString() : QStringLiteral("\n")) + one.output;
        };
        for (int i = 0; i < inputs.size(); ++i) {
            AbInputRow row;
            row.input = inputs[i];
            emit progress(id, tr("Input %1 of %2: prompt A").arg(i + 1).arg(inputs.size()));
            row.a = runOne(abPrompt(promptA, row.input), tokens);
            emit progress(id, tr("Input %1 of %2: prompt B").arg(i + 1).arg(inputs.size()));
            row.b = runOne(abPrompt(promptB, row.input), tokens);
            addTo(report.a, row.a);
            addTo(report.b, row.b);
            report.inputs.push_back(row);
        }
        emit abFinished(report);
    } catch (const Cancelled&) {
        emit jobFailed(id, tr("Cancelled"));
    } catch (const std::exception& e) {
        emit jobFailed(id, qs(e.what()));
    }
}

PromptLabHost::PromptLabHost(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<tenfold::ui::PromptModelInfo>();
    qRegisterMetaType<tenfold::ui::CompressionReport>();
    qRegisterMetaType<tenfold::ui::AbReport>();
    worker_ = new PromptLabWorker(cancel_);
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    thread_.setObjectName(QStringLiteral("prompt lab"));
    thread_.start();
}

PromptLabHost::~PromptLabHost()
{
    cancel_->store(true);
    thread_.quit();
    thread_.wait();
}

void PromptLabHost::setModel(const QString& path)
{
    QMetaObject::invokeMethod(worker_, [w = worker_, path] { w->setModel(path); });
}

void PromptLabHost::countTokens(quint64 id, const QString& text)
{
    QMetaObject::invokeMethod(worker_, [w = worker_, id, text] { w->countTokens(id, text); });
}

void PromptLabHost::readFile(const QString& path)
{
    QMetaObject::invokeMethod(worker_, [w = worker_, path] { w->readFile(path); });
}

void PromptLabHost::renderTemplate(quint64 id, const QString& source, const QString& json, bool addGenerationPrompt,
                                   const QString& bos, const QString& eos)
{
    QMetaObject::invokeMethod(worker_, [=, w = worker_] { w->renderTemplate(id, source, json, addGenerationPrompt, bos, eos); });
}

void PromptLabHost::compress(quint64 id, const QString& text, double keepRatio, const QString& scorerPath,
                             int continueTokens)
{
    cancel_->store(false);
    QMetaObject::invokeMethod(worker_, [=, w = worker_] { w->compress(id, text, keepRatio, scorerPath, continueTokens); });
}

void PromptLabHost::runAb(quint64 id, const QString& a, const QString& b, int tokens, const QStringList& inputs)
{
    cancel_->store(false);
    QMetaObject::invokeMethod(worker_, [=, w = worker_] { w->runAb(id, a, b, tokens, inputs); });
}

} // namespace tenfold::ui
