#pragma once
// The message input: Enter sends, Shift+Enter starts a new line, Esc stops a running reply (or
// leaves edit mode).
#include <QPlainTextEdit>

namespace tenfold::ui {

class Composer : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit Composer(QWidget* parent = nullptr);
    QSize sizeHint() const override;

signals:
    void sendRequested();
    void escapePressed();

protected:
    void keyPressEvent(QKeyEvent* event) override;

private:
    void adjustHeight();
};

} // namespace tenfold::ui
