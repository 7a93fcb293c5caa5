#pragma once
// A long stored conversation (for the responsiveness suite and the transcript benchmark): user and
// assistant turns alternating, with Markdown in the replies, written straight into a data folder's
// database before the app opens it.
#include "store/store.h"

#include <QString>

#include <string>

namespace tenfold::test {

inline std::string longConversationText(int i, bool user)
{
    if (user)
        return "Question " + std::to_string(i) + ": what happened next in the story of the little red fox?";
    return "The fox walked on (reply " + std::to_string(i) +
           "). It saw **a river**, a *bridge* and `three stones`:\n\n- one was grey\n- one was white\n"
           "- one was red\n\nThen it went home to sleep under the old oak tree near the farm.";
}

// Returns the conversation id. `modelPath` and `settingsJson` become the conversation's own.
inline qint64 writeLongConversation(const QString& dataDir, int messages, const QString& modelPath = QString(),
                                    const std::string& settingsJson = "{}")
{
    Store store(dataDir.toStdString());
    Conversation c;
    c.title = "A very long conversation";
    c.modelPath = modelPath.toStdString();
    c.settingsJson = settingsJson;
    const qint64 id = store.createConversation(c);
    for (int i = 0; i < messages; ++i) {
        NewMessage m;
        m.role = i % 2 == 0 ? "user" : "assistant";
        m.content = longConversationText(i, i % 2 == 0);
        store.appendMessage(id, m);
    }
    return id;
}

} // namespace tenfold::test
