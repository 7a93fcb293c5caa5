// ChatPage, the reply's life: waiting for the model, starting the stored reply, streaming text into
// the card and the store, and finishing (complete, stopped or failed). The page's layout and the
// conversation list are in chat_page.cpp.
#include "chat/chat_page.h"

#include "chat/conversation_settings_panel.h"
#include "chat/message_bubble.h"
#include "chat/transcript_view.h"
#include "core/app_context.h"
#include "models/library_ops.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QFileInfo>

namespace tenfold::ui {

void ChatPage::startReply(int replaceFromOrdinal)
{
    QString modelPath = QString::fromStdString(conversation_.modelPath);
    const auto& loaded = context_.host().loadedModel();
    if (modelPath.isEmpty() && loaded) {
        modelPath = loaded->path;
        settingsPanel_->setModelPath(modelPath);
        saveConversationSettings();
    }
    if (modelPath.isEmpty()) {
        setStatus(tr("Choose a model in the conversation settings, or add one on the Models page."), true);
        return;
    }
    if (!loaded || loaded->path != modelPath) {
        pendingReply_ = true;
        pendingConversationId_ = conversationId_;
        pendingReplaceOrdinal_ = replaceFromOrdinal;
        if (context_.host().loadingPath() != modelPath)
            context_.host().load(makeLoadRequest(context_, modelPath));
        setStatus(tr("Loading %1…").arg(QFileInfo(modelPath).fileName()));
        updateActions();
        return;
    }

    if (context_.host().state() != ModelHost::State::Ready) {
        setStatus(tr("The model is busy; try again in a moment."), true);
        return;
    }

    ChatRequest request;
    request.systemPrompt = QString::fromStdString(conversation_.systemPrompt);
    request.sampling = SamplingSettings::fromJson(QString::fromStdString(conversation_.settingsJson));
    for (const StoredMessage& m : messages_) {
        if ((m.role != "user" && m.role != "assistant") || m.state == MessageState::Error || m.content.empty())
            continue;
        if (replaceFromOrdinal >= 0 && m.ordinal >= replaceFromOrdinal)
            continue; // the reply being regenerated
        request.turns.push_back({QString::fromStdString(m.role), QString::fromStdString(m.content)});
    }
    if (request.turns.isEmpty() || request.turns.back().role != QLatin1String("user"))
        return;

    // Regenerate: the old reply goes only now that the model is ready to write the new one (the
    // host is Ready, so generate() below accepts the request). Both writes are one store job.
    const qint64 conversationId = conversationId_;
    const std::string modelName = loaded->name.toStdString();
    const std::string settingsJson = conversation_.settingsJson;
    storeBusy_ = true;
    updateActions();
    context_.storeWorker().call<qint64>(
        this,
        [conversationId, replaceFromOrdinal, modelName, settingsJson](Store& store) {
            if (replaceFromOrdinal >= 0)
                store.deleteMessagesFrom(conversationId, replaceFromOrdinal);
            return qint64(store.beginStreamingMessage(conversationId, "assistant", modelName, settingsJson));
        },
        [this, conversationId, replaceFromOrdinal, request](qint64 messageId) {
            storeBusy_ = false;
            beginStreaming(conversationId, replaceFromOrdinal, messageId, request);
        },
        tr("the reply"),
        [this] {
            storeBusy_ = false;
            updateActions();
        });
}

void ChatPage::beginStreaming(qint64 conversationId, int replaceFromOrdinal, qint64 messageId, const ChatRequest& request)
{
    streamingMessageId_ = messageId;
    streamingConversationId_ = conversationId;
    streamedText_.clear();
    activeRequest_ = context_.host().generate(request);
    if (activeRequest_ == 0) {
        context_.storeWorker().post([messageId](Store& store) { store.finishMessage(messageId, MessageState::Error, {}); },
                                    tr("the reply"));
        streamingMessageId_ = 0;
        setStatus(tr("The model is busy; try again in a moment."), true);
    } else {
        setStatus(QString());
    }
    if (conversationId == conversationId_) {
        // Mirror the store's two writes in the local copy and the transcript.
        std::vector<StoredMessage> next;
        for (const StoredMessage& m : messages_)
            if (replaceFromOrdinal < 0 || m.ordinal < replaceFromOrdinal)
                next.push_back(m);
        StoredMessage reply;
        reply.id = messageId;
        reply.conversationId = conversationId;
        reply.ordinal = next.empty() ? 0 : next.back().ordinal + 1;
        reply.role = "assistant";
        reply.model = context_.host().loadedModel() ? context_.host().loadedModel()->name.toStdString() : std::string();
        reply.state = activeRequest_ ? MessageState::Streaming : MessageState::Error;
        next.push_back(reply);
        showMessages(std::move(next));
    }
    updateActions();
}

void ChatPage::stop()
{
    if (pendingReply_) {
        pendingReply_ = false;
        context_.host().cancelLoad();
        updateActions();
        return;
    }
    context_.host().stop();
}

void ChatPage::regenerate()
{
    if (isReplying() || conversationId_ == 0 || messages_.empty())
        return;
    const StoredMessage& last = messages_.back();
    startReply(last.role == "assistant" ? last.ordinal : -1);
}

void ChatPage::onLoaded(const LoadedModel& model)
{
    updateHeader();
    if (!pendingReply_)
        return;
    if (pendingConversationId_ != conversationId_) {
        // The user moved to another conversation while the model loaded: answering now would put
        // the reply in the wrong place.
        pendingReply_ = false;
        setStatus(tr("The reply was not started because another conversation was opened while the model loaded."));
        updateActions();
        return;
    }
    if (QString::fromStdString(conversation_.modelPath) == model.path) {
        pendingReply_ = false;
        startReply(pendingReplaceOrdinal_);
    }
}

void ChatPage::onLoadFailed(const QString& path, const QString& message)
{
    if (pendingReply_) {
        pendingReply_ = false;
        setStatus(tr("Could not load %1: %2").arg(QFileInfo(path).fileName(), message), true);
        updateActions();
    }
}

void ChatPage::onGenerationStarted(quint64 id, int droppedTurns)
{
    if (id != activeRequest_ || droppedTurns <= 0)
        return;
    const int ctx = context_.host().loadedModel() ? context_.host().loadedModel()->contextSize : 0;
    const QString text = tr("The conversation no longer fits the model's context of %1 tokens: the %n oldest "
                            "message(s) were left out of this reply. The system prompt is kept.", nullptr, droppedTurns)
                             .arg(ctx);
    setStatus(text);
    if (streamingConversationId_ == conversationId_)
        transcript_->addNotice(text);
}

void ChatPage::onTextStreamed(quint64 id, const QString& chunk)
{
    if (id != activeRequest_)
        return;
    streamedText_ += chunk;
    // The store buffers the text and commits it every ~100 ms on its own thread.
    context_.storeWorker().post([messageId = streamingMessageId_, bytes = chunk.toStdString()](Store& store) {
        store.appendStreamingText(messageId, bytes);
    }, tr("the reply"));
    if (streamingConversationId_ == conversationId_)
        if (MessageBubble* b = transcript_->bubbleFor(streamingMessageId_)) {
            b->appendText(chunk);
            transcript_->followIfAtBottom();
        }
}

void ChatPage::onGenerationFinished(const GenerationResult& r)
{
    if (r.id != activeRequest_)
        return;
    const qint64 messageId = streamingMessageId_;
    MessageStats stats;
    stats.tokensIn = r.promptTokens;
    stats.tokensOut = r.generatedTokens;
    stats.timeToFirstTokenMs = r.timeToFirstTokenMs;
    stats.totalMs = r.totalMs;
    stats.tokensPerSecond = r.tokensPerSecond;
    const MessageState state = r.cancelled ? MessageState::Stopped : MessageState::Complete;
    const QString finalText = r.cancelled && r.text.isEmpty() ? streamedText_ : r.text;
    const bool replaceText = finalText != streamedText_;
    const auto& loaded = context_.host().loadedModel();
    LedgerEntry entry;
    entry.model = loaded ? loaded->name.toStdString() : std::string();
    entry.device = loaded ? loaded->deviceTag.toStdString() : std::string("cpu");
    entry.timeToFirstTokenMs = r.timeToFirstTokenMs;
    entry.totalMs = r.totalMs;
    entry.conversationId = streamingConversationId_;
    entry.messageId = messageId;
    entry.cacheHit = r.cacheHit.toStdString(); // "exact"/"semantic": answered without computing
    // tokens_in/out are what the reply had (a cached answer's own counts, as the server records
    // them); prefill/decode are what was computed for it, which the cost history prices.
    const bool cached = !r.cacheHit.isEmpty();
    entry.tokensIn = cached ? r.cachedPromptTokens : r.promptTokens + r.reusedPromptTokens;
    entry.tokensOut = cached ? r.cachedCompletionTokens : r.generatedTokens;
    entry.prefillTokens = r.promptTokens;
    entry.prefillMs = r.promptMs;
    entry.decodeTokens = r.generatedTokens;
    entry.decodeMs = r.decodeMs;
    entry.reusedPromptTokens = r.reusedPromptTokens;
    entry.speculativeTokens = r.acceptedDraftTokens;
    entry.energyJoules = r.energyJoules;
    entry.energySource = r.energySource.toStdString();
    if (loaded) {
        entry.modelHash = loaded->modelHash.toStdString();
        entry.quantization = loaded->quantization.toStdString();
        entry.kernelLevel = loaded->kernelLevel.toStdString();
        entry.threads = loaded->threads;
        entry.contextSize = loaded->contextSize;
    }
    // One job: the final state, the final text (stop strings removed) and the ledger entry.
    // replyFinished follows once they are stored.
    auto emitFinished = [this, messageId, state] { emit replyFinished(messageId, state); };
    context_.storeWorker().post(
        [messageId, state, stats, replaceText, text = finalText.toStdString(), entry](Store& store) {
            store.finishMessage(messageId, state, stats);
            if (replaceText)
                store.updateMessageContent(messageId, text);
            store.recordUsage(entry);
        },
        tr("the reply"), this, emitFinished, emitFinished);

    activeRequest_ = 0;
    streamingMessageId_ = 0;
    if (streamingConversationId_ == conversationId_)
        if (MessageBubble* b = transcript_->bubbleFor(messageId)) {
            b->setText(finalText);
            b->setState(state);
            b->setStats(stats);
        }
    // Keep the local copy in step with the store without re-rendering the transcript.
    for (StoredMessage& m : messages_)
        if (m.id == messageId) {
            m.content = finalText.toStdString();
            m.state = state;
            m.stats = stats;
        }
    if (r.cancelled)
        setStatus(tr("Stopped."));
    else if (r.draftedTokens > 0)
        setStatus(tr("Draft model: %1% of %2 proposed tokens kept.")
                      .arg(100.0 * r.acceptedDraftTokens / r.draftedTokens, 0, 'f', 0)
                      .arg(r.draftedTokens));
    else
        setStatus(QString());
    updateActions();
}

void ChatPage::onGenerationFailed(quint64 id, const QString& message)
{
    if (id != activeRequest_)
        return;
    const qint64 messageId = streamingMessageId_;
    auto emitFinished = [this, messageId] { emit replyFinished(messageId, MessageState::Error); };
    context_.storeWorker().post([messageId](Store& store) { store.finishMessage(messageId, MessageState::Error, {}); },
                                tr("the reply"), this, emitFinished, emitFinished);
    activeRequest_ = 0;
    streamingMessageId_ = 0;
    if (streamingConversationId_ == conversationId_)
        if (MessageBubble* b = transcript_->bubbleFor(messageId))
            b->setState(MessageState::Error, message);
    for (StoredMessage& m : messages_)
        if (m.id == messageId)
            m.state = MessageState::Error;
    setStatus(tr("The reply failed: %1").arg(message), true);
    updateActions();
}

} // namespace tenfold::ui
