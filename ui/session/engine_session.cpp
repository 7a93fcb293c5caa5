#include "session/engine_session.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "cost/energy_meter.h"
#include "cost/ledger_facts.h"
#include "profile/op_profile.h"
#include "profile/process_sampler.h"
#include "session/backend_factory.h"
#include "session/model_facts.h"
#include "session/prompt_builder.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/embedding.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>

#include <algorithm>
#include <random>

namespace tenfold::ui {
namespace {


// Reads every page of the mapped weights once, so the first reply is not slowed by page faults,
// and gives the load a real progress bar that can be cancelled.
void pageInWeights(const Model& model, const std::atomic<bool>& cancel,
                   const std::function<void(double)>& progress)
{
    const GGUFFile* file = model.gguf();
    if (!file)
        return;
    const auto& tensors = file->tensors();
    uint64_t total = 0;
    for (const auto& t : tensors)
        total += t.nbytes;
    uint64_t done = 0;
    volatile uint8_t sink = 0;
    constexpr uint64_t kPage = 4096;
    for (const auto& t : tensors) {
        for (uint64_t off = 0; off < t.nbytes; off += kPage) {
            sink = sink + t.data[off];
            if ((off & ((1u << 22) - 1)) == 0) { // every 4 MiB
                if (cancel.load())
                    throw Cancelled();
                progress(total ? double(done + off) / double(total) : 1.0);
            }
        }
        done += t.nbytes;
    }
    progress(1.0);
}

} // namespace

EngineSession::EngineSession(std::shared_ptr<std::atomic<bool>> loadCancel,
                             std::shared_ptr<std::atomic<bool>> generateCancel,
                             std::shared_ptr<const BackendRegistry> backends, QObject* parent)
    : QObject(parent), loadCancel_(std::move(loadCancel)), generateCancel_(std::move(generateCancel)),
      backends_(std::move(backends))
{
}

EngineSession::~EngineSession() { release(); }

void EngineSession::setResponseCacheFile(const QString& databaseFile)
{
    replyCache_.reset();
    if (databaseFile.isEmpty())
        return;
    try {
        replyCache_ = std::make_unique<ReplyCache>(databaseFile.toStdString());
        if (model_)
            replyCache_->invalidateStale(QFileInfo(info_.path).absoluteFilePath().toStdString(), model_->fingerprint());
    } catch (const std::exception& e) {
        qWarning("response cache off: %s", e.what()); // replies are computed as before
    }
}

void EngineSession::release()
{
    draftContext_.reset(); // before the backend that holds its cache
    draftModel_.reset();
    draftPath_.clear();
    if (model_ && context_ && !stateDir_.isEmpty()) {
        // The next start of this model continues these conversations without recomputing them.
        for (const std::string& w : conversations_.persist(*context_, *model_, GGMLType::F16, stateDir_.toStdString(),
                                                            kConversationStateBytes))
            qWarning("conversation cache: %s", w.c_str());
    }
    conversations_.clear();
    context_.reset();
    backend_.reset();
    template_.reset();
    model_.reset();
    info_ = LoadedModel();
}

void EngineSession::load(const LoadRequest& request)
{
    release();
    const quint64 id = request.loadId;
    const std::atomic<bool>& cancel = request.cancel ? *request.cancel : *loadCancel_;
    try {
        if (cancel.load())
            throw Cancelled(); // superseded while it waited in the queue
        emit loadProgress(id, 0, tr("Reading model file"));
        auto model = Model::loadGGUF(request.path.toStdString());
        if (cancel.load())
            throw Cancelled();
        emit loadProgress(id, 5, tr("Reading weights"));
        int lastPercent = 5;
        pageInWeights(*model, cancel, [&](double f) {
            const int percent = 5 + int(f * 80.0);
            if (percent != lastPercent) {
                lastPercent = percent;
                emit loadProgress(id, percent, tr("Reading weights"));
            }
        });
        emit loadProgress(id, 85, tr("Preparing the compute device"));
        BackendSelection selected = createBackend(backends_.get(), request.backend, request.threads);
        if (cancel.load())
            throw Cancelled();
        ContextParams params;
        params.nCtx = request.contextSize;
        params.nThreads = request.threads;
        params.profile = request.profile;
        auto context = selected.backend->createContext(model, params);
        if (cancel.load())
            throw Cancelled();

        ChatModelInfo chatInfo;
        chatInfo.name = model->displayName();
        chatInfo.architecture = model->hparams().architecture;
        if (const GGUFFile* file = model->gguf())
            chatInfo.chatTemplate = file->getString("tokenizer.chat_template");
        template_ = std::make_unique<ChatTemplate>(selectChatTemplate(chatInfo));

        info_.path = request.path;
        info_.architecture = QString::fromStdString(model->hparams().architecture);
        {
            std::string generalName;
            if (const GGUFFile* file = model->gguf())
                generalName = file->getString("general.name").value_or("");
            info_.name = modelDisplayName(QString::fromStdString(generalName), info_.architecture, request.path);
        }
        info_.backendName = QString::fromStdString(selected.backend->name());
        info_.deviceTag = selected.deviceTag;
        info_.templateName = QString::fromStdString(template_->name());
        info_.plainCompletion = template_->isPlainCompletion();
        info_.contextSize = context->contextSize();
        info_.parameters = qint64(model->parameterCount());
        info_.modelHash = QString::fromStdString(cost::modelHashHex(*model));
        info_.quantization = QString::fromStdString(cost::dominantWeightType(*model));
        const bool onCpu = selected.deviceTag.startsWith(QLatin1String("cpu"));
        info_.kernelLevel = QString::fromStdString(cost::kernelLevelFor(selected.deviceTag.toStdString()));
        info_.threads = onCpu ? (request.threads > 0 ? request.threads : QThread::idealThreadCount()) : 0;
        info_.profiled = request.profile;
        info_.weightBytes = qint64(model->weightBytes());
        info_.matmulWeights = profile::matmulWeights(*model);
        {
            const auto& hp = model->hparams();
            // Keys and values, every layer, every position, F16.
            info_.kvCacheBytes = 2 * qint64(hp.nLayer) * qint64(info_.contextSize) * qint64(hp.nHeadKv) *
                                 qint64(hp.headDim) * 2;
        }
        if (replyCache_) // the file may have changed since its answers were stored
            replyCache_->invalidateStale(QFileInfo(request.path).absoluteFilePath().toStdString(), model->fingerprint());
        model_ = std::move(model);
        backend_ = std::move(selected.backend);
        context_ = std::move(context);
        if (!stateDir_.isEmpty())
            for (const std::string& w : conversations_.restore(*model_, GGMLType::F16, stateDir_.toStdString()))
                qWarning("conversation cache: %s", w.c_str()); // that conversation is recomputed
        emit loadProgress(id, 100, tr("Ready"));
        emit loaded(id, info_);
    } catch (const Cancelled&) {
        release();
        emit loadCancelled(id, request.path);
    } catch (const std::exception& e) {
        release();
        emit loadFailed(id, request.path, QString::fromStdString(e.what()));
    }
}

void EngineSession::unload()
{
    release();
    emit unloaded();
}

InferenceContext& EngineSession::draftContext(const QString& path)
{
    if (draftContext_ && draftPath_ == path)
        return *draftContext_;
    draftContext_.reset();
    draftModel_.reset();
    draftPath_.clear();
    auto model = Model::loadGGUF(path.toStdString());
    if (model->hparams().nVocab != model_->hparams().nVocab)
        throw InvalidArgument(tr("the draft model %1 has a vocabulary of %2 tokens, the conversation's model %3")
                                  .arg(QFileInfo(path).fileName())
                                  .arg(model->hparams().nVocab)
                                  .arg(model_->hparams().nVocab)
                                  .toStdString());
    ContextParams params;
    params.nCtx = context_->contextSize();
    draftContext_ = backend_->createContext(model, params);
    draftModel_ = std::move(model);
    draftPath_ = path;
    return *draftContext_;
}

void EngineSession::generate(const ChatRequest& request)
{
    if (!model_ || !context_) {
        emit generationFailed(request.id, tr("No model is loaded."));
        return;
    }
    GenerationResult result;
    result.id = request.id;
    QElapsedTimer total;
    total.start();
    if (!energyMeter_) // reads /sys on first use: here, on the session's thread
        energyMeter_ = std::make_unique<cost::EnergyMeter>(cost::RaplReader::open(), cost::Wattage{});
    const cost::EnergyMeter::Mark energyMark = energyMeter_->start();
    const bool onGpu = !info_.deviceTag.startsWith(QLatin1String("cpu"));
    auto measureEnergy = [&] {
        const cost::EnergyReading e = energyMeter_->since(energyMark, onGpu);
        result.energyJoules = e.joules;
        result.energySource = QString::fromStdString(e.source);
    };
    QString whole; // everything streamed so far, kept if the reply is cancelled mid-way
    try {
        BuiltPrompt prompt = buildPrompt(model_->tokenizer(), *template_, request, context_->contextSize());
        result.droppedTurns = prompt.droppedTurns;
        emit generationStarted(request.id, prompt.droppedTurns);

        // A deterministic reply the model already gave is streamed from the response cache.
        std::optional<ReplyCache::Key> cacheKey;
        if (replyCache_)
            cacheKey = ReplyCache::keyFor(model_->fingerprint(), request.sampling, prompt.tokens);
        if (cacheKey) {
            const auto hit = replyCache_->lookup(*cacheKey, [&] {
                return meanPooledEmbedding(*backend_, model_, prompt.tokens, generateCancel_.get());
            });
            if (hit) {
                whole = QString::fromStdString(hit->response);
                if (!whole.isEmpty())
                    emit textStreamed(request.id, whole);
                result.text = whole;
                result.cacheHit = QString::fromStdString(hit->kind);
                result.cachedPromptTokens = hit->promptTokens;
                result.cachedCompletionTokens = hit->completionTokens;
                result.cacheSimilarity = hit->similarity;
                result.stopReason = QStringLiteral("cached");
                result.totalMs = double(total.nsecsElapsed()) / 1e6;
                result.timeToFirstTokenMs = result.totalMs;
                measureEnergy();
                emit generationFinished(result);
                return;
            }
        }

        GenerateOptions options;
        options.maxTokens = request.sampling.maxTokens;
        options.sampling.temperature = float(request.sampling.temperature);
        options.sampling.topK = request.sampling.topK;
        options.sampling.topP = float(request.sampling.topP);
        options.sampling.minP = float(request.sampling.minP);
        options.sampling.repeatPenalty = float(request.sampling.repeatPenalty);
        options.sampling.seed = request.sampling.seed >= 0 ? uint64_t(request.sampling.seed)
                                                           : std::random_device{}();
        options.stopStrings = template_->stopStrings();
        options.cancel = generateCancel_.get();
        if (!request.sampling.draftModelPath.isEmpty()) {
            try {
                options.draft.ctx = &draftContext(request.sampling.draftModelPath);
            } catch (const std::exception& e) {
                throw InvalidArgument(tr("Draft model: %1").arg(QString::fromStdString(e.what())).toStdString());
            }
            options.draft.maxDraft = request.sampling.draftMax;
        }

        // The prompt is re-rendered from the stored conversation, which may have been edited,
        // trimmed or regenerated since the last call: only the cached positions whose tokens still
        // match are kept. A draft model needs an empty cache to start from.
        int reused = 0;
        // TENFOLD_NO_CONVERSATION_CACHE=1 recomputes every prompt (for benchmarks: bench_chat_turns).
        static const bool noCache = qEnvironmentVariableIsSet("TENFOLD_NO_CONVERSATION_CACHE");
        if (options.draft.ctx || noCache) {
            context_->truncate(0);
            conversations_.forgetLive();
        } else {
            reused = conversations_.prepare(*context_, *model_, GGMLType::F16, prompt.tokens);
        }
        std::vector<int32_t> fed(prompt.tokens.begin(), prompt.tokens.end());
        QString pending;
        QElapsedTimer sinceEmit;
        sinceEmit.start();
        // Profiling: the last pass's op timings, the speed so far and the RSS, every ~250 ms.
        const bool profiling = info_.profiled;
        QElapsedTimer sinceSample;
        sinceSample.start();
        double firstTokenMs = -1;
        int generatedSoFar = 0;
        auto sample = [&](bool final, int promptTokens, double promptMs) {
            ProfileSample s;
            s.requestId = request.id;
            s.seconds = double(total.nsecsElapsed()) / 1e9;
            s.promptTokens = promptTokens;
            s.promptMs = promptMs;
            s.generatedTokens = generatedSoFar;
            s.decodeMs = firstTokenMs >= 0 ? double(total.nsecsElapsed()) / 1e6 - firstTokenMs : 0;
            s.timings = context_->lastTimings();
            s.residentBytes = qint64(profile::residentBytes());
            s.deviceHeaps = backend_->memoryHeaps();
            s.final = final;
            emit profileSampled(s);
        };
        const GenerationStats stats = tenfold::generate(
            *context_, *model_, std::span<const int32_t>(prompt.tokens).subspan(size_t(reused)), options,
            [&](int32_t token, std::string_view text) {
                if (token >= 0)
                    fed.push_back(token);
                if (profiling && token >= 0) {
                    if (firstTokenMs < 0)
                        firstTokenMs = double(total.nsecsElapsed()) / 1e6;
                    ++generatedSoFar;
                    // Not at the first token: its pass was the prompt's, not a decode step.
                    if (generatedSoFar > 1 && sinceSample.elapsed() >= 250) {
                        sample(false, int(prompt.tokens.size()) - reused, firstTokenMs);
                        sinceSample.restart();
                    }
                }
                const QString chunk = QString::fromUtf8(text.data(), qsizetype(text.size()));
                pending += chunk;
                whole += chunk;
                if (sinceEmit.elapsed() >= kStreamIntervalMs && !pending.isEmpty()) {
                    emit textStreamed(request.id, pending);
                    pending.clear();
                    sinceEmit.restart();
                }
                return true;
            });
        if (!pending.isEmpty())
            emit textStreamed(request.id, pending);
        // The cache holds the prompt and every reply token but the last (never fed back).
        fed.resize(std::min(fed.size(), size_t(context_->position())));
        if (options.draft.ctx)
            conversations_.forgetLive();
        else
            conversations_.update(fed);
        result.text = whole; // the generator never lets a stop string through
        result.promptTokens = stats.promptTokens;
        result.reusedPromptTokens = reused;
        result.generatedTokens = stats.generatedTokens;
        result.timeToFirstTokenMs = stats.timeToFirstTokenMs;
        result.tokensPerSecond = stats.generatedTokensPerSecond();
        result.cancelled = stats.stopReason == StopReason::Cancelled;
        result.stopReason = QString::fromLatin1(stopReasonName(stats.stopReason));
        result.draftedTokens = stats.draftedTokens;
        result.acceptedDraftTokens = stats.acceptedDraftTokens;
        result.totalMs = double(total.nsecsElapsed()) / 1e6;
        result.promptMs = stats.timeToFirstTokenMs;
        if (profiling) {
            generatedSoFar = stats.generatedTokens;
            sample(true, stats.promptTokens, stats.timeToFirstTokenMs);
        }
        result.decodeMs = std::max(0.0, result.totalMs - stats.timeToFirstTokenMs);
        measureEnergy();
        if (cacheKey && !result.cancelled)
            replyCache_->store(*cacheKey, QFileInfo(info_.path).absoluteFilePath().toStdString(), whole,
                               int(prompt.tokens.size()), stats.generatedTokens, result.totalMs);
        emit generationFinished(result);
    } catch (const Cancelled&) {
        conversations_.forgetLive(); // a pass cut short leaves the cache rolled back, not known
        context_->truncate(0);
        result.cancelled = true;
        result.text = whole;
        result.stopReason = QStringLiteral("cancelled");
        result.totalMs = double(total.nsecsElapsed()) / 1e6;
        measureEnergy();
        emit generationFinished(result);
    } catch (const std::exception& e) {
        conversations_.forgetLive();
        if (context_)
            context_->truncate(0);
        emit generationFailed(request.id, QString::fromStdString(e.what()));
    }
}

void EngineSession::benchmark(const BenchRequest& request)
{
    if (!model_ || !context_) {
        emit benchmarkFailed(request.id, tr("No model is loaded."));
        return;
    }
    const int nCtx = context_->contextSize();
    if (request.promptTokens < 1 || request.genTokens < 1 || request.promptTokens + request.genTokens > nCtx) {
        emit benchmarkFailed(request.id, tr("A benchmark of %1 prompt and %2 generated tokens does not fit the "
                                            "%3-token context.")
                                             .arg(request.promptTokens)
                                             .arg(request.genTokens)
                                             .arg(nCtx));
        return;
    }
    if (!energyMeter_)
        energyMeter_ = std::make_unique<cost::EnergyMeter>(cost::RaplReader::open(), cost::Wattage{});
    const bool onGpu = !info_.deviceTag.startsWith(QLatin1String("cpu"));
    // The same tokens as tenfold-cli bench: fixed pseudo-random ids past the leading specials.
    const int vocab = model_->hparams().nVocab;
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(std::min(3, vocab - 1), vocab - 1);
    std::vector<int32_t> prompt(size_t(request.promptTokens));
    for (int32_t& t : prompt)
        t = pick(rng);

    BenchResult result;
    result.id = request.id;
    QElapsedTimer total;
    total.start();
    QElapsedTimer sinceSample;
    auto sample = [&](bool final) {
        ProfileSample s;
        s.requestId = request.id;
        s.seconds = double(total.nsecsElapsed()) / 1e9;
        s.promptTokens = result.promptTokens;
        s.promptMs = result.promptMs;
        s.generatedTokens = result.genTokens;
        s.decodeMs = result.decodeMs;
        s.timings = context_->lastTimings();
        s.residentBytes = qint64(profile::residentBytes());
        s.deviceHeaps = backend_->memoryHeaps();
        s.final = final;
        emit profileSampled(s);
    };
    conversations_.forgetLive(); // the cache is about to hold the benchmark's tokens
    const cost::EnergyMeter::Mark energyMark = energyMeter_->start();
    try {
        context_->truncate(0);
        std::vector<float> logits;
        context_->decode(prompt, false, logits, generateCancel_.get());
        result.promptTokens = request.promptTokens;
        result.promptMs = double(total.nsecsElapsed()) / 1e6;
        QElapsedTimer decode;
        decode.start();
        sinceSample.start();
        for (int k = 0; k < request.genTokens; ++k) {
            if (generateCancel_->load())
                throw Cancelled();
            const int32_t next[1] = {int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin())};
            context_->decode(next, false, logits, generateCancel_.get());
            ++result.genTokens;
            result.decodeMs = double(decode.nsecsElapsed()) / 1e6;
            if (sinceSample.elapsed() >= 250) {
                sample(false);
                sinceSample.restart();
            }
        }
    } catch (const Cancelled&) {
        result.cancelled = true;
    } catch (const std::exception& e) {
        context_->truncate(0);
        emit benchmarkFailed(request.id, QString::fromStdString(e.what()));
        return;
    }
    context_->truncate(0);
    const cost::EnergyReading energy = energyMeter_->since(energyMark, onGpu);
    result.energyJoules = energy.joules;
    result.energySource = QString::fromStdString(energy.source);
    sample(true);
    emit benchmarkFinished(result);
}

} // namespace tenfold::ui
