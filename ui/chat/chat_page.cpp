#include "chat/chat_page.h"

#include "chat/composer.h"
#include "chat/conversation_list_model.h"
#include "chat/conversation_settings_panel.h"
#include "chat/message_bubble.h"
#include "chat/transcript_view.h"
#include "core/app_context.h"
#include "models/library_ops.h"
#include "promptlab/token_count_label.h"
#include "session/model_host.h"
#include "store/store.h"

#include <QAction>
#include <QClipboard>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace tenfold::ui {

ChatPage::ChatPage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(buildSidebar());
    splitter->addWidget(buildConversationArea());
    settingsPanel_ = new ConversationSettingsPanel(context_, splitter);
    settingsPanel_->setMinimumWidth(240);
    splitter->addWidget(settingsPanel_);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setStretchFactor(2, 0);
    splitter->setSizes({250, 700, 270});
    layout->addWidget(splitter);

    connect(settingsPanel_, &ConversationSettingsPanel::changed, this, &ChatPage::saveConversationSettings);
    connect(settingsToggle_, &QToolButton::toggled, settingsPanel_, &QWidget::setVisible);

    newChatAction_ = new QAction(tr("New chat"), this);
    newChatAction_->setShortcut(QKeySequence::New);
    newChatAction_->setShortcutContext(Qt::WindowShortcut);
    connect(newChatAction_, &QAction::triggered, this, [this] {
        newChat();
        emit context_.navigateRequested(pageId());
    });
    auto* stopShortcut = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    stopShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(stopShortcut, &QShortcut::activated, this, [this] {
        if (isReplying()) stop(); else cancelEdit();
    });

    ModelHost& host = context_.host();
    connect(&host, &ModelHost::loaded, this, &ChatPage::onLoaded);
    connect(&host, &ModelHost::loadFailed, this, &ChatPage::onLoadFailed);
    connect(&host, &ModelHost::loadCancelled, this, [this](const QString&) {
        if (pendingReply_) {
            pendingReply_ = false;
            setStatus(tr("Loading was cancelled."));
            updateActions();
        }
    });
    connect(&host, &ModelHost::generationStarted, this, &ChatPage::onGenerationStarted);
    connect(&host, &ModelHost::textStreamed, this, &ChatPage::onTextStreamed);
    connect(&host, &ModelHost::generationFinished, this, &ChatPage::onGenerationFinished);
    connect(&host, &ModelHost::generationFailed, this, &ChatPage::onGenerationFailed);
    connect(&host, &ModelHost::stateChanged, this, [this] { updateActions(); updateHeader(); });
    connect(&context_, &AppContext::modelLibraryChanged, settingsPanel_, &ConversationSettingsPanel::reloadModels);
    connect(&context_, &AppContext::newChatWithModelRequested, this, [this](const QString& path) {
        newChat(path);
        emit context_.navigateRequested(pageId());
    });

    connect(transcript_, &TranscriptView::showEarlierRequested, this, &ChatPage::showEarlierMessages);
    // The list arrives from the store thread; until then the page shows a new chat. Its first
    // answer opens the newest conversation, unless the user (or --model) already chose one.
    connect(listModel_, &ConversationListModel::reloaded, this, [this] {
        if (autoOpenPending_) {
            autoOpenPending_ = false;
            if (const qint64 first = listModel_->idAt(0); first && conversationId_ == 0 && !isReplying() &&
                                                           composer_->toPlainText().isEmpty())
                openConversation(first);
        }
        selectInList(conversationId_);
    });

    refreshIcons();
    newChat();
    autoOpenPending_ = true;
}

QWidget* ChatPage::buildSidebar()
{
    auto* panel = new QWidget(this);
    panel->setMinimumWidth(200);
    auto* layout = new QVBoxLayout(panel);
    layout->setContentsMargins(14, 14, 8, 14);
    layout->setSpacing(8);
    newChat_ = new QPushButton(tr("New chat"), panel);
    newChat_->setToolTip(tr("Start a new conversation (%1)").arg(QKeySequence(QKeySequence::New).toString(QKeySequence::NativeText)));
    layout->addWidget(newChat_);
    search_ = new QLineEdit(panel);
    search_->setPlaceholderText(tr("Search conversations"));
    search_->setClearButtonEnabled(true);
    // Created once; refreshIcons() only swaps its icon when the palette changes.
    searchAction_ = search_->addAction(themedIcon(IconKind::Search), QLineEdit::LeadingPosition);
    layout->addWidget(search_);

    listModel_ = new ConversationListModel(context_, this);
    list_ = new QListView(panel);
    list_->setObjectName(QStringLiteral("conversationList"));
    list_->setModel(listModel_);
    // A rename in the list is already stored; keep the open conversation's copy in step so a later
    // settings save does not write the old title back.
    connect(listModel_, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& from, const QModelIndex& to) {
        if (conversationId_ == 0)
            return;
        for (int row = from.row(); row <= to.row(); ++row) {
            const QModelIndex index = listModel_->index(row);
            if (index.data(ConversationListModel::IdRole).toLongLong() == conversationId_) {
                conversation_.title = index.data(Qt::EditRole).toString().toStdString();
                updateHeader();
            }
        }
    });
    list_->setEditTriggers(QAbstractItemView::EditKeyPressed);
    list_->setContextMenuPolicy(Qt::CustomContextMenu);
    list_->setUniformItemSizes(false);
    list_->setTextElideMode(Qt::ElideRight);
    list_->setSpacing(1);
    layout->addWidget(list_, 1);

    undoBar_ = new QWidget(panel);
    auto* undoLayout = new QHBoxLayout(undoBar_);
    undoLayout->setContentsMargins(0, 0, 0, 0);
    undoText_ = new QLabel(tr("Conversation deleted."), undoBar_);
    undoText_->setWordWrap(true);
    auto* undo = new QPushButton(tr("Undo"), undoBar_);
    undoLayout->addWidget(undoText_, 1);
    undoLayout->addWidget(undo);
    undoBar_->hide();
    layout->addWidget(undoBar_);

    connect(newChat_, &QPushButton::clicked, this, [this] { newChat(); });
    connect(undo, &QPushButton::clicked, this, &ChatPage::undoDelete);
    auto* searchTimer = new QTimer(this);
    searchTimer->setSingleShot(true);
    searchTimer->setInterval(200);
    connect(search_, &QLineEdit::textChanged, searchTimer, qOverload<>(&QTimer::start));
    connect(searchTimer, &QTimer::timeout, this, [this] {
        listModel_->setQuery(search_->text());
        selectInList(conversationId_);
    });
    connect(list_, &QListView::clicked, this, [this](const QModelIndex& index) {
        const qint64 id = index.data(ConversationListModel::IdRole).toLongLong();
        if (id != conversationId_)
            openConversation(id);
    });
    connect(list_, &QListView::customContextMenuRequested, this, [this](const QPoint& pos) {
        const QModelIndex index = list_->indexAt(pos);
        if (!index.isValid())
            return;
        QMenu menu(this);
        menu.addAction(tr("Rename"), this, [this, index] { list_->edit(index); });
        menu.addAction(tr("Delete"), this, [this, index] {
            openConversation(index.data(ConversationListModel::IdRole).toLongLong());
            deleteCurrentConversation();
        });
        menu.exec(list_->viewport()->mapToGlobal(pos));
    });
    auto* del = new QShortcut(QKeySequence::Delete, list_);
    del->setContext(Qt::WidgetShortcut);
    connect(del, &QShortcut::activated, this, &ChatPage::deleteCurrentConversation);
    return panel;
}

QWidget* ChatPage::buildConversationArea()
{
    auto* area = new QWidget(this);
    auto* layout = new QVBoxLayout(area);
    layout->setContentsMargins(0, 10, 0, 12);
    layout->setSpacing(8);

    auto* header = new QHBoxLayout;
    header->setContentsMargins(24, 0, 12, 0);
    auto* titles = new QVBoxLayout;
    titles->setSpacing(0);
    title_ = new QLabel(area);
    title_->setObjectName(QStringLiteral("pageTitle"));
    modelInfo_ = new QLabel(area);
    modelInfo_->setObjectName(QStringLiteral("mutedLabel"));
    titles->addWidget(title_);
    titles->addWidget(modelInfo_);
    header->addLayout(titles, 1);
    settingsToggle_ = new QToolButton(area);
    settingsToggle_->setCheckable(true);
    settingsToggle_->setChecked(true);
    settingsToggle_->setAutoRaise(true);
    settingsToggle_->setToolTip(tr("Show or hide the conversation settings"));
    header->addWidget(settingsToggle_);
    layout->addLayout(header);

    transcript_ = new TranscriptView(area);
    layout->addWidget(transcript_, 1);

    auto* bottom = new QVBoxLayout;
    bottom->setContentsMargins(24, 0, 24, 0);
    bottom->setSpacing(6);
    editBanner_ = new QLabel(tr("Editing an earlier message: sending replaces it and every later message. Esc cancels."), area);
    editBanner_->setObjectName(QStringLiteral("notice"));
    editBanner_->setWordWrap(true);
    editBanner_->hide();
    bottom->addWidget(editBanner_);
    auto* row = new QHBoxLayout;
    row->setSpacing(8);
    composer_ = new Composer(area);
    row->addWidget(composer_, 1);
    send_ = new QPushButton(tr("Send"), area);
    send_->setMinimumWidth(96);
    send_->setMinimumHeight(34);
    row->addWidget(send_, 0, Qt::AlignBottom);
    bottom->addLayout(row);
    // What the message costs: tokens, context fill and the estimated cost of sending it.
    tokenCount_ = new TokenCountLabel(context_, composer_, area);
    bottom->addWidget(tokenCount_);
    // A reply adds a ledger row (emitted once it is stored): the measured prompt speed changes.
    connect(this, &ChatPage::replyFinished, tokenCount_, [this] { tokenCount_->refreshRate(); });
    status_ = new QLabel(area);
    status_->setObjectName(QStringLiteral("statsLabel"));
    status_->setWordWrap(true);
    bottom->addWidget(status_);
    layout->addLayout(bottom);

    connect(composer_, &Composer::sendRequested, this, &ChatPage::send);
    connect(composer_, &Composer::escapePressed, this, [this] {
        if (isReplying()) stop(); else cancelEdit();
    });
    connect(send_, &QPushButton::clicked, this, [this] {
        if (isReplying()) stop(); else send();
    });
    return area;
}

void ChatPage::refreshIcons()
{
    if (!newChat_)
        return;
    newChat_->setIcon(themedIcon(IconKind::NewChat));
    settingsToggle_->setIcon(themedIcon(IconKind::Settings));
    send_->setIcon(themedIcon(isReplying() ? IconKind::Stop : IconKind::Send));
    searchAction_->setIcon(themedIcon(IconKind::Search));
    for (MessageBubble* b : transcript_->bubbles())
        b->refreshIcons();
}

void ChatPage::pageShown()
{
    composer_->setFocus();
}

void ChatPage::selectInList(qint64 id)
{
    const int row = listModel_->rowOfId(id);
    list_->setCurrentIndex(row >= 0 ? listModel_->index(row) : QModelIndex());
}

void ChatPage::newChat(const QString& modelPath)
{
    autoOpenPending_ = false;
    openingId_ = 0;
    cancelEdit();
    conversationId_ = 0;
    conversation_ = Conversation();
    messages_.clear();
    QString model = modelPath;
    if (model.isEmpty() && context_.host().loadedModel())
        model = context_.host().loadedModel()->path;
    conversation_.modelPath = model.toStdString();
    settingsPanel_->reloadModels();
    settingsPanel_->setValues(model, QString(), SamplingSettings());
    list_->clearSelection();
    list_->setCurrentIndex(QModelIndex());
    renderMessages();
    updateHeader();
    updateActions();
    composer_->setFocus();
    if (!modelPath.isEmpty()) {
        const auto& loaded = context_.host().loadedModel();
        if ((!loaded || loaded->path != modelPath) && context_.host().loadingPath() != modelPath)
            context_.host().load(makeLoadRequest(context_, modelPath));
    }
}

void ChatPage::openConversation(qint64 id)
{
    autoOpenPending_ = false;
    openingId_ = id;
    struct Opened {
        std::optional<Conversation> conversation;
        std::vector<StoredMessage> messages;
    };
    // Read on the store thread; only the latest request is shown (the user may click on).
    context_.storeWorker().call<Opened>(
        this,
        [id](Store& store) {
            Opened out;
            out.conversation = store.conversation(id);
            if (out.conversation)
                out.messages = store.messages(id);
            return out;
        },
        [this, id](Opened opened) {
            if (openingId_ != id || !opened.conversation)
                return;
            openingId_ = 0;
            cancelEdit();
            conversationId_ = id;
            conversation_ = *opened.conversation;
            const Conversation& c = conversation_;
            settingsPanel_->setValues(QString::fromStdString(c.modelPath), QString::fromStdString(c.systemPrompt),
                                      SamplingSettings::fromJson(QString::fromStdString(c.settingsJson)));
            messages_ = std::move(opened.messages);
            renderMessages();
            selectInList(id);
            updateHeader();
            updateActions();
            emit conversationOpened(id);
        },
        tr("the conversation"));
}

void ChatPage::showMessages(std::vector<StoredMessage> loaded)
{
    // The cards of the unchanged leading messages stay; only the changed tail is rebuilt, so
    // sending in a long conversation adds one card instead of rebuilding them all.
    size_t keep = 0;
    while (keep < messages_.size() && keep < loaded.size() && messages_[keep].id == loaded[keep].id &&
           messages_[keep].content == loaded[keep].content && messages_[keep].state == loaded[keep].state)
        ++keep;
    messages_ = std::move(loaded);
    if (int(keep) < firstShown_) {
        renderMessages();
        return;
    }
    transcript_->removeBubblesFrom(int(keep) - firstShown_);
    for (size_t i = keep; i < messages_.size(); ++i)
        transcript_->addBubble(makeBubble(messages_[i]));
    updateActions();
}

MessageBubble* ChatPage::makeBubble(const StoredMessage& m)
{
    QString author;
    if (m.role == "user")
        author = tr("You");
    else if (m.role == "system")
        author = tr("System");
    else
        author = m.model.empty() ? tr("Assistant") : QString::fromStdString(m.model);
    auto* bubble = new MessageBubble(m, author);
    connect(bubble, &MessageBubble::copyRequested, this, [bubble](qint64) {
        QGuiApplication::clipboard()->setText(bubble->text());
    });
    connect(bubble, &MessageBubble::editRequested, this, &ChatPage::beginEdit);
    connect(bubble, &MessageBubble::regenerateRequested, this, [this](qint64) { regenerate(); });
    return bubble;
}

void ChatPage::renderMessages()
{
    transcript_->clear();
    transcript_->setEmptyText(tr("Start the conversation by writing a message below."));
    // Only the newest cards are built; older ones on request (see TranscriptView).
    firstShown_ = std::max(0, int(messages_.size()) - kMessagesPerPage);
    for (size_t i = size_t(firstShown_); i < messages_.size(); ++i) {
        const StoredMessage& m = messages_[i];
        MessageBubble* bubble = makeBubble(m);
        // While streaming, the live text (which may not be flushed yet) is the truth.
        if (m.id == streamingMessageId_ && activeRequest_ != 0)
            bubble->setText(streamedText_);
        transcript_->addBubble(bubble);
    }
    transcript_->setHiddenEarlierCount(firstShown_);
    updateActions();
}

void ChatPage::showEarlierMessages()
{
    if (firstShown_ <= 0)
        return;
    const int from = std::max(0, firstShown_ - kMessagesPerPage);
    QVector<MessageBubble*> older;
    for (int i = from; i < firstShown_; ++i)
        older.push_back(makeBubble(messages_[size_t(i)]));
    firstShown_ = from;
    transcript_->prependBubbles(older);
    transcript_->setHiddenEarlierCount(firstShown_);
    updateActions();
}

Conversation ChatPage::newConversationRecord(const QString& firstMessage) const
{
    Conversation c;
    QString title = firstMessage.simplified();
    if (title.size() > 48)
        title = title.left(47) + QStringLiteral("…");
    c.title = title.toStdString();
    c.modelPath = settingsPanel_->modelPath().toStdString();
    c.systemPrompt = settingsPanel_->systemPrompt().toStdString();
    c.settingsJson = settingsPanel_->sampling().toJson().toStdString();
    return c;
}

void ChatPage::saveConversationSettings()
{
    conversation_.modelPath = settingsPanel_->modelPath().toStdString();
    conversation_.systemPrompt = settingsPanel_->systemPrompt().toStdString();
    conversation_.settingsJson = settingsPanel_->sampling().toJson().toStdString();
    if (conversationId_ != 0)
        context_.storeWorker().post([c = conversation_](Store& store) { store.updateConversation(c); },
                                    tr("the conversation settings"));
    updateHeader();
}

void ChatPage::send()
{
    const QString text = composer_->toPlainText().trimmed();
    if (text.isEmpty() || isReplying())
        return;
    if (settingsPanel_->modelPath().isEmpty() && !context_.host().loadedModel()) {
        // Nothing could answer: keep the text in the composer rather than store an orphan turn.
        setStatus(tr("Choose a model in the conversation settings, or add one on the Models page."), true);
        return;
    }
    int editOrdinal = -1;
    if (editingMessageId_ != 0)
        for (const StoredMessage& m : messages_)
            if (m.id == editingMessageId_)
                editOrdinal = m.ordinal;
    NewMessage m;
    m.role = "user";
    m.content = text.toStdString();
    const qint64 existing = conversationId_;
    const Conversation created = existing ? Conversation() : newConversationRecord(text);

    struct Sent {
        qint64 conversationId = 0;
        std::vector<StoredMessage> messages;
    };
    // One job on the store thread: create the conversation if new, store the message (or replace
    // the edited one and its tail) and read the messages back. The composer keeps the text until
    // it is stored; on failure the banner says why.
    storeBusy_ = true;
    updateActions();
    context_.storeWorker().call<Sent>(
        this,
        [existing, created, editOrdinal, m](Store& store) {
            Sent out;
            out.conversationId = existing ? existing : store.createConversation(created);
            if (editOrdinal >= 0)
                store.replaceMessagesFrom(out.conversationId, editOrdinal, m);
            else
                store.appendMessage(out.conversationId, m);
            out.messages = store.messages(out.conversationId);
            return out;
        },
        [this, existing, created](Sent sent) {
            storeBusy_ = false;
            if (conversationId_ != existing || openingId_ != 0) {
                // Another conversation was opened meanwhile: the message is stored, not answered.
                listModel_->reload();
                updateActions();
                return;
            }
            if (!existing) {
                conversationId_ = sent.conversationId;
                conversation_ = created;
                conversation_.id = sent.conversationId;
                search_->clear();
                listModel_->setQuery(QString());
            } else {
                listModel_->reload();
            }
            composer_->clear();
            cancelEdit();
            showMessages(std::move(sent.messages));
            updateHeader();
            startReply();
        },
        existing ? (editOrdinal >= 0 ? tr("the edited message") : tr("your message")) : tr("the new conversation"),
        [this] {
            storeBusy_ = false;
            updateActions();
        });
}

void ChatPage::beginEdit(qint64 messageId)
{
    if (isReplying())
        return;
    for (const StoredMessage& m : messages_)
        if (m.id == messageId) {
            editingMessageId_ = messageId;
            composer_->setPlainText(QString::fromStdString(m.content));
            composer_->moveCursor(QTextCursor::End);
            editBanner_->show();
            composer_->setFocus();
            return;
        }
}

void ChatPage::cancelEdit()
{
    if (editingMessageId_ == 0)
        return;
    editingMessageId_ = 0;
    editBanner_->hide();
    composer_->clear();
}

void ChatPage::deleteCurrentConversation()
{
    if (conversationId_ == 0)
        return;
    const qint64 id = conversationId_;
    if (isReplying() && streamingConversationId_ == id)
        stop();
    const QString title = QString::fromStdString(conversation_.title);
    context_.storeWorker().post([id](Store& store) { store.setConversationDeleted(id, true); }, tr("the deletion"),
                                this, [this, id, title] {
        deletedConversationId_ = id;
        undoText_->setText(tr("Deleted “%1”.").arg(title));
        undoBar_->show();
        listModel_->reload();
        emit conversationDeleted(id);
    });
    // The next conversation opens at once (its read is queued after the deletion).
    qint64 next = 0;
    for (int row = 0; row < listModel_->rowCount() && !next; ++row)
        if (listModel_->idAt(row) != id)
            next = listModel_->idAt(row);
    if (next)
        openConversation(next);
    else
        newChat();
}

void ChatPage::undoDelete()
{
    if (deletedConversationId_ == 0)
        return;
    const qint64 id = deletedConversationId_;
    deletedConversationId_ = 0;
    undoBar_->hide();
    context_.storeWorker().post([id](Store& store) { store.setConversationDeleted(id, false); },
                                tr("the conversation"));
    listModel_->reload();
    openConversation(id);
}

void ChatPage::updateActions()
{
    const bool replying = isReplying();
    send_->setText(replying ? tr("Stop") : tr("Send"));
    send_->setToolTip(replying ? tr("Stop the reply (Esc)") : tr("Send the message (Enter)"));
    send_->setIcon(themedIcon(replying ? IconKind::Stop : IconKind::Send));
    const auto bubbles = transcript_->bubbles();
    for (int i = 0; i < bubbles.size(); ++i) {
        bubbles[i]->setActionsEnabled(!replying);
        bubbles[i]->setRegenerateVisible(!replying && i == bubbles.size() - 1 &&
                                         bubbles[i]->state() != MessageState::Streaming);
    }
}

void ChatPage::updateHeader()
{
    title_->setText(conversationId_ ? QString::fromStdString(conversation_.title) : tr("New conversation"));
    const QString path = settingsPanel_->modelPath();
    const auto& loaded = context_.host().loadedModel();
    QString info;
    if (path.isEmpty())
        info = tr("No model chosen");
    else if (loaded && loaded->path == path) {
        info = tr("%1 · %2 · context %3 tokens").arg(loaded->name, loaded->backendName).arg(loaded->contextSize);
        const QString format = loaded->plainCompletion ? tr("plain completion (not a chat model)")
                                                       : tr("chat format: %1").arg(loaded->templateName);
        settingsPanel_->setTemplateInfo(format);
    } else if (context_.host().loadingPath() == path)
        info = tr("%1 · loading…").arg(QFileInfo(path).completeBaseName());
    else
        info = tr("%1 · loads when you send a message").arg(QFileInfo(path).completeBaseName());
    if (!(loaded && loaded->path == path))
        settingsPanel_->setTemplateInfo(QString());
    modelInfo_->setText(info);
}

void ChatPage::setStatus(const QString& text, bool error)
{
    status_->setText(text);
    status_->setStyleSheet(error ? QStringLiteral("QLabel { color: #c5221f; }") : QString());
}

} // namespace tenfold::ui
