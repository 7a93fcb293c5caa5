#pragma once
// The Prompt lab's engine work, on its own thread: counting tokens, rendering chat templates,
// compressing prompts (eval/prompt_compression.h) and running two prompt variants side by side.
// It opens its own read-only view of the model the app loaded (memory-mapped, so the weights are
// shared with the chat's copy through the page cache) and runs it on the CPU, so the lab never
// waits for, or disturbs, a reply being generated in the chat. PromptLabHost owns the thread.
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QVector>

#include <atomic>
#include <memory>

namespace tenfold {
namespace cost {
class EnergyMeter;
}
class Backend;
class InferenceContext;
class Model;
}

namespace tenfold::ui {

struct PromptModelInfo {
    QString path;
    QString name;
    int contextSize = 0;      // what the lab's context holds
    QString templateSource;   // the model's chat template, or the built-in the app would pick
    QString templateName;
    QString bosToken, eosToken;
    QStringList specialTokens; // control and user-defined tokens' text, for highlighting
};

struct CompressedPiece {
    QString text;
    float surprisal = 0;
    bool kept = false;
    bool protectedSpan = false;
};

struct CompressionReport {
    quint64 id = 0;
    QString compressed;
    QVector<CompressedPiece> pieces; // the original's tokens
    int originalTokens = 0, compressedTokens = 0, tokenBudget = 0;
    double seconds = 0;
    bool compared = false;           // continueTokens > 0
    int positions = 0;
    double meanKld = 0, maxKld = 0, sameTopToken = 0;
    QString originalAnswer, compressedAnswer;
};

struct AbSide {
    QString output;
    int promptTokens = 0, outputTokens = 0;
    double prefillMs = 0, decodeMs = 0;
    double joules = 0;            // the machine's energy over the run (RAPL, else the estimate)
    bool energyEstimated = true;  // from configured wattage, not measured
};

// One input of an A/B run over a list: both variants with the input filled in.
struct AbInputRow {
    QString input;
    AbSide a, b;
};

struct AbReport {
    quint64 id = 0;
    AbSide a, b;                 // over a list of inputs: the totals (outputs one per line)
    QVector<AbInputRow> inputs;  // empty: the prompts ran once as written
};

// A prompt variant with one input filled in: every "{input}" replaced by it, or, when the variant
// has none, the input on a line of its own after it.
QString abPrompt(const QString& variant, const QString& input);

class PromptLabWorker : public QObject {
    Q_OBJECT
public:
    explicit PromptLabWorker(std::shared_ptr<std::atomic<bool>> cancel, QObject* parent = nullptr);
    ~PromptLabWorker() override;

public slots:
    // Opens the model (empty path: forgets it). modelReady or modelFailed follows.
    void setModel(const QString& path);
    void countTokens(quint64 id, const QString& text);
    // Reads a (template) file off the GUI thread; fileRead follows, with an error message or "".
    void readFile(const QString& path);
    // conversationJson: an OpenAI-style messages array, or {"messages": [...], "tools": [...]}.
    // Rendered as tenfold-cli template renders it (date_string left to the template).
    void renderTemplate(quint64 id, const QString& templateSource, const QString& conversationJson,
                        bool addGenerationPrompt, const QString& bos, const QString& eos);
    // scorerPath empty: the model itself scores. continueTokens > 0: compare the answers.
    void compress(quint64 id, const QString& text, double keepRatio, const QString& scorerPath, int continueTokens);
    // Greedy continuation of each prompt (same model, same settings), timed. With inputs, both
    // variants run once per input (abPrompt), A then B, with a progress message before each run.
    void runAb(quint64 id, const QString& promptA, const QString& promptB, int tokens,
               const QStringList& inputs = {});

signals:
    void modelReady(const tenfold::ui::PromptModelInfo& info);
    void modelFailed(const QString& path, const QString& message);
    void tokensCounted(quint64 id, int tokens);
    void fileRead(const QString& path, const QString& text, const QString& error);
    void templateRendered(quint64 id, const QString& text);
    void templateFailed(quint64 id, const QString& message);
    void progress(quint64 id, const QString& stage);
    void compressed(const tenfold::ui::CompressionReport& report);
    void abFinished(const tenfold::ui::AbReport& report);
    void jobFailed(quint64 id, const QString& message);

private:
    InferenceContext& context();
    AbSide runOne(const QString& prompt, int tokens);

    std::shared_ptr<std::atomic<bool>> cancel_;
    QString modelPath_;
    std::shared_ptr<Model> model_;
    std::unique_ptr<Backend> backend_;
    std::unique_ptr<InferenceContext> context_;
    std::unique_ptr<cost::EnergyMeter> energyMeter_; // opened on the first A/B run
    QString scorerPath_;
    std::shared_ptr<Model> scorer_;
    std::unique_ptr<InferenceContext> scorerContext_;
};

// Owns the worker's thread; every call returns at once and results arrive as the worker's
// signals. cancel() stops a compression or A/B run between tokens.
class PromptLabHost : public QObject {
    Q_OBJECT
public:
    explicit PromptLabHost(QObject* parent = nullptr);
    ~PromptLabHost() override;
    PromptLabWorker* worker() const { return worker_; }
    void setModel(const QString& path);
    void countTokens(quint64 id, const QString& text);
    void renderTemplate(quint64 id, const QString& source, const QString& json, bool addGenerationPrompt,
                        const QString& bos, const QString& eos);
    void compress(quint64 id, const QString& text, double keepRatio, const QString& scorerPath, int continueTokens);
    void runAb(quint64 id, const QString& a, const QString& b, int tokens, const QStringList& inputs = {});
    void readFile(const QString& path);
    void cancel() { cancel_->store(true); }

private:
    QThread thread_;
    std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
    PromptLabWorker* worker_ = nullptr;
};

} // namespace tenfold::ui

Q_DECLARE_METATYPE(tenfold::ui::PromptModelInfo)
Q_DECLARE_METATYPE(tenfold::ui::CompressionReport)
Q_DECLARE_METATYPE(tenfold::ui::AbReport)
