#pragma once
// Chat: the conversation list, the transcript of the open conversation, the composer and the
// per-conversation settings. Replies stream from the ModelHost into both the transcript and the
// store (token by token), so a crash or restart never loses what was already written.
#include "core/page.h"
#include "session/engine_types.h"
#include "store/store.h"

#include <vector>

class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QToolButton;

namespace tenfold::ui {

class Composer;
class ConversationListModel;
class ConversationSettingsPanel;
class MessageBubble;
class TokenCountLabel;
class TranscriptView;

class ChatPage : public Page {
    Q_OBJECT
public:
    ChatPage(AppContext& context, QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("chat"); }
    QString title() const override { return tr("Chat"); }
    IconKind icon() const override { return IconKind::Chat; }
    void refreshIcons() override;
    void pageShown() override;
    QList<QAction*> windowActions() const override { return {newChatAction_}; }

    // Starts an empty conversation (created in the store on the first message).
    void newChat(const QString& modelPath = QString());
    void openConversation(qint64 id);
    // Sends the composer's text (Enter / Send button).
    void send();
    void stop();
    void regenerate();
    void deleteCurrentConversation();
    void undoDelete();

    qint64 currentConversationId() const { return conversationId_; }
    // True from Send until the reply ends: while the message is being stored, the model loads or
    // the reply streams.
    bool isReplying() const { return activeRequest_ != 0 || pendingReply_ || storeBusy_; }
    // Cards are built for at most this many newest messages when a conversation opens.
    static constexpr int kMessagesPerPage = 30;

    Composer* composer() const { return composer_; }
    TokenCountLabel* tokenCount() const { return tokenCount_; }
    QPushButton* sendButton() const { return send_; }
    TranscriptView* transcript() const { return transcript_; }
    QListView* conversationList() const { return list_; }
    ConversationListModel* conversationModel() const { return listModel_; }
    QLineEdit* searchField() const { return search_; }
    ConversationSettingsPanel* settingsPanel() const { return settingsPanel_; }
    QLabel* statusLabel() const { return status_; }
    QWidget* undoBar() const { return undoBar_; }

signals:
    // A reply finished (complete, stopped or failed); for tests and the status line.
    void replyFinished(qint64 messageId, tenfold::MessageState state);
    // A conversation finished opening (its messages arrived from the store thread).
    void conversationOpened(qint64 id);
    void conversationDeleted(qint64 id);

private:
    QWidget* buildSidebar();
    QWidget* buildConversationArea();
    // Shows `loaded` as the open conversation's messages, rebuilding only the cards that changed.
    void showMessages(std::vector<StoredMessage> loaded);
    void renderMessages();
    void showEarlierMessages();
    MessageBubble* makeBubble(const StoredMessage& message);
    // replaceFromOrdinal >= 0 (regenerate): messages from that ordinal on are left out of the
    // request and deleted once the new reply can start.
    void startReply(int replaceFromOrdinal = -1);
    void beginStreaming(qint64 conversationId, int replaceFromOrdinal, qint64 messageId, const ChatRequest& request);
    void saveConversationSettings();
    Conversation newConversationRecord(const QString& firstMessage) const;
    void updateActions();
    void updateHeader();
    void setStatus(const QString& text, bool error = false);
    void beginEdit(qint64 messageId);
    void cancelEdit();
    void selectInList(qint64 id);

    void onLoaded(const LoadedModel& model);
    void onLoadFailed(const QString& path, const QString& message);
    void onGenerationStarted(quint64 id, int droppedTurns);
    void onTextStreamed(quint64 id, const QString& chunk);
    void onGenerationFinished(const GenerationResult& result);
    void onGenerationFailed(quint64 id, const QString& message);

    AppContext& context_;
    // The open conversation (id 0: new, not yet stored) and its messages as stored.
    qint64 conversationId_ = 0;
    Conversation conversation_;
    std::vector<StoredMessage> messages_;
    // The reply being generated, which may belong to a conversation that is no longer open.
    quint64 activeRequest_ = 0;
    qint64 streamingMessageId_ = 0;
    qint64 streamingConversationId_ = 0;
    QString streamedText_;
    bool pendingReply_ = false;       // waiting for the conversation's model to load
    qint64 pendingConversationId_ = 0; // the conversation the pending reply belongs to
    int pendingReplaceOrdinal_ = -1;   // regenerate: the reply it replaces
    qint64 editingMessageId_ = 0;     // edit-and-resend in progress
    qint64 deletedConversationId_ = 0; // can still be undone
    qint64 openingId_ = 0;            // the conversation whose messages are being read
    bool storeBusy_ = false;          // a send or reply start waits for the store thread
    bool autoOpenPending_ = false;    // open the newest conversation when the list first arrives
    int firstShown_ = 0;              // index in messages_ of the first card built

    QAction* newChatAction_ = nullptr;
    ConversationListModel* listModel_ = nullptr;
    QPushButton* newChat_ = nullptr;
    QLineEdit* search_ = nullptr;
    QAction* searchAction_ = nullptr;
    QListView* list_ = nullptr;
    QWidget* undoBar_ = nullptr;
    QLabel* undoText_ = nullptr;
    QLabel* title_ = nullptr;
    QLabel* modelInfo_ = nullptr;
    QToolButton* settingsToggle_ = nullptr;
    TranscriptView* transcript_ = nullptr;
    QLabel* editBanner_ = nullptr;
    Composer* composer_ = nullptr;
    TokenCountLabel* tokenCount_ = nullptr;
    QPushButton* send_ = nullptr;
    QLabel* status_ = nullptr;
    ConversationSettingsPanel* settingsPanel_ = nullptr;
};

} // namespace tenfold::ui

Q_DECLARE_METATYPE(tenfold::MessageState)
