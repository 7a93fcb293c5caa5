#include "core/app_settings.h"

#include <algorithm>

#include <QDir>

namespace tenfold::ui {

AppSettings::AppSettings(const QString& dataDir, QObject* parent)
    : QObject(parent), settings_(QDir(dataDir).filePath(QStringLiteral("tenfold.ini")), QSettings::IniFormat)
{
}

ThemeChoice AppSettings::theme() const
{
    const QString v = settings_.value(QStringLiteral("appearance/theme")).toString();
    if (v == QLatin1String("light")) return ThemeChoice::Light;
    if (v == QLatin1String("dark")) return ThemeChoice::Dark;
    return ThemeChoice::System;
}

void AppSettings::setTheme(ThemeChoice t)
{
    if (t == theme()) return;
    const char* names[] = {"system", "light", "dark"};
    settings_.setValue(QStringLiteral("appearance/theme"), QString::fromLatin1(names[int(t)]));
    emit themeChanged(t);
}

QString AppSettings::language() const
{
    return settings_.value(QStringLiteral("appearance/language")).toString();
}

void AppSettings::setLanguage(const QString& code)
{
    if (code == language()) return;
    settings_.setValue(QStringLiteral("appearance/language"), code);
    emit languageChanged(code);
}

BackendChoice AppSettings::backend() const
{
    const QString v = settings_.value(QStringLiteral("engine/backend")).toString();
    if (v == QLatin1String("cpu")) return BackendChoice::Cpu;
    if (v == QLatin1String("vulkan")) return BackendChoice::Vulkan;
    return BackendChoice::Auto;
}

void AppSettings::setBackend(BackendChoice b)
{
    const char* names[] = {"auto", "cpu", "vulkan"};
    settings_.setValue(QStringLiteral("engine/backend"), QString::fromLatin1(names[int(b)]));
}

int AppSettings::threads() const { return settings_.value(QStringLiteral("engine/threads"), 0).toInt(); }
void AppSettings::setThreads(int n) { settings_.setValue(QStringLiteral("engine/threads"), n); }
int AppSettings::contextSize() const { return settings_.value(QStringLiteral("engine/context"), 0).toInt(); }
void AppSettings::setContextSize(int n) { settings_.setValue(QStringLiteral("engine/context"), n); }

QVariantMap AppSettings::serverChoices() const
{
    QVariantMap out;
    settings_.beginGroup(QStringLiteral("server"));
    for (const QString& key : settings_.childKeys())
        out.insert(key, settings_.value(key));
    settings_.endGroup();
    return out;
}

void AppSettings::setServerChoices(const QVariantMap& choices)
{
    settings_.beginGroup(QStringLiteral("server"));
    for (auto it = choices.begin(); it != choices.end(); ++it)
        settings_.setValue(it.key(), it.value());
    settings_.endGroup();
}

QByteArray AppSettings::windowGeometry() const
{
    return settings_.value(QStringLiteral("window/geometry")).toByteArray();
}
void AppSettings::setWindowGeometry(const QByteArray& g) { settings_.setValue(QStringLiteral("window/geometry"), g); }
QString AppSettings::lastPage() const { return settings_.value(QStringLiteral("window/page")).toString(); }
void AppSettings::setLastPage(const QString& id) { settings_.setValue(QStringLiteral("window/page"), id); }

bool AppSettings::sync()
{
    settings_.sync();
    return settings_.status() == QSettings::NoError;
}

QString AppSettings::priceTableText() const
{
    return settings_.value(QStringLiteral("prices/table")).toString();
}

void AppSettings::setPriceTableText(const QString& text)
{
    if (text.isEmpty())
        settings_.remove(QStringLiteral("prices/table"));
    else
        settings_.setValue(QStringLiteral("prices/table"), text);
}

bool AppSettings::profiling() const
{
    return settings_.value(QStringLiteral("profiler/enabled"), false).toBool();
}

void AppSettings::setProfiling(bool on)
{
    settings_.setValue(QStringLiteral("profiler/enabled"), on);
}

} // namespace tenfold::ui
