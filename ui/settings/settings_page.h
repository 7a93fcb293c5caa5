#pragma once
// Preferences: appearance (theme, language), the compute backend and where data lives.
#include "core/page.h"

class QComboBox;
class QLabel;
class QSpinBox;

namespace tenfold::ui {

class SettingsPage : public Page {
    Q_OBJECT
public:
    SettingsPage(AppContext& context, QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("settings"); }
    QString title() const override { return tr("Settings"); }
    IconKind icon() const override { return IconKind::Settings; }

    QComboBox* themeBox() const { return theme_; }
    QComboBox* languageBox() const { return language_; }
    QComboBox* backendBox() const { return backend_; }

private:
    AppContext& context_;
    QComboBox* theme_ = nullptr;
    QComboBox* language_ = nullptr;
    QLabel* languageNote_ = nullptr;
    QComboBox* backend_ = nullptr;
    QSpinBox* threads_ = nullptr;
    QSpinBox* context_size_ = nullptr;
};

} // namespace tenfold::ui
