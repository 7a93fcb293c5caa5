#pragma once
// The Prompt lab's template preview: a chat template (the loaded model's, or one opened or typed
// here) and an OpenAI-style conversation in JSON, rendered to the exact text the model reads, as
// tenfold-cli template renders it, with the special tokens highlighted.
#include <QTimer>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTextEdit;

namespace tenfold::ui {

class PromptLabHost;
struct PromptModelInfo;

class TemplatePreviewTab : public QWidget {
    Q_OBJECT
public:
    TemplatePreviewTab(PromptLabHost& host, QWidget* parent = nullptr);

    void setModel(const PromptModelInfo& info);
    // Fills the inputs (tests and "Open template file…"); the preview follows.
    void setTemplateSource(const QString& source);
    void setConversation(const QString& json);
    void setSpecialTokens(const QString& bos, const QString& eos);
    void setAddGenerationPrompt(bool on);
    // Renders at once instead of after the typing pause.
    void renderNow();

    QTextEdit* preview() const { return preview_; }
    QLabel* status() const { return status_; }
    // Highlighted spans of the preview, [start, end) in characters.
    const QVector<QPair<int, int>>& highlights() const { return highlights_; }

signals:
    void rendered();
    void renderFailed(const QString& message);

private:
    void render();
    void show(const QString& text);
    void openTemplateFile();

    PromptLabHost& host_;
    QPlainTextEdit* source_ = nullptr;
    QPlainTextEdit* conversation_ = nullptr;
    QCheckBox* generationPrompt_ = nullptr;
    QLineEdit* bos_ = nullptr;
    QLineEdit* eos_ = nullptr;
    QPushButton* modelTemplate_ = nullptr;
    QPushButton* openFile_ = nullptr;
    QTextEdit* preview_ = nullptr;
    QLabel* status_ = nullptr;
    QTimer debounce_;
    quint64 lastId_ = 0;
    QString modelSource_, modelBos_, modelEos_;
    QStringList specialTokens_;
    QVector<QPair<int, int>> highlights_;
};

} // namespace tenfold::ui
