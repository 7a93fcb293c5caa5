#pragma once
// Application-wide preferences (theme, language, backend, window state), kept in an INI file in the
// data directory so that every data directory carries its own settings and tests stay isolated.
#include <QByteArray>
#include <QObject>
#include <QSettings>
#include <QString>
#include <QVariantMap>

namespace tenfold::ui {

enum class ThemeChoice { System, Light, Dark };
enum class BackendChoice { Auto, Cpu, Vulkan };

class AppSettings : public QObject {
    Q_OBJECT
public:
    explicit AppSettings(const QString& dataDir, QObject* parent = nullptr);

    ThemeChoice theme() const;
    void setTheme(ThemeChoice t);
    // "" follows the system locale; "en" or "zh_CN" force a language.
    QString language() const;
    void setLanguage(const QString& code);
    BackendChoice backend() const;
    void setBackend(BackendChoice b);
    int threads() const;        // 0: all cores
    void setThreads(int n);
    int contextSize() const;    // 0: the model's training context
    void setContextSize(int n);

    // The Server page's last choices (host, port, parallel, context, threads, device), as it
    // last started a server. API keys are secrets and are never written here.
    QVariantMap serverChoices() const;
    void setServerChoices(const QVariantMap& choices);

    // The price table as the user edited it on the Cost history page (engine/cost/price_table.h
    // text format; key prices/table); empty when the shipped defaults are in use.
    QString priceTableText() const;
    // The Profiler page's switch: models load with per-op timing (profiler/enabled).
    bool profiling() const;
    void setProfiling(bool on);
    void setPriceTableText(const QString& text);

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray& g);
    QString lastPage() const;
    void setLastPage(const QString& id);

    // False when the INI file cannot be written (read-only or full data directory).
    bool sync();
    QString fileName() const { return settings_.fileName(); }

signals:
    void themeChanged(tenfold::ui::ThemeChoice theme);
    void languageChanged(const QString& code);

private:
    mutable QSettings settings_;
};

} // namespace tenfold::ui
