#include "settings/settings_page.h"

#include "core/app_context.h"
#include "core/app_settings.h"
#include "core/theme.h"
#include "session/backend_factory.h"
#include "session/model_facts.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QScrollArea>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

namespace tenfold::ui {

SettingsPage::SettingsPage(AppContext& context, QWidget* parent) : Page(parent), context_(context)
{
    AppSettings& settings = context_.settings();
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(28, 24, 28, 24);
    outer->setSpacing(16);
    auto* heading = new QLabel(tr("Settings"), this);
    heading->setObjectName(QStringLiteral("pageTitle"));
    outer->addWidget(heading);

    // Appearance
    auto* appearance = new QGroupBox(tr("Appearance"), this);
    auto* appearanceForm = new QFormLayout(appearance);
    appearanceForm->setHorizontalSpacing(18);
    appearanceForm->setVerticalSpacing(10);
    theme_ = new QComboBox(appearance);
    theme_->addItem(tr("Follow the system"), int(ThemeChoice::System));
    theme_->addItem(tr("Light"), int(ThemeChoice::Light));
    theme_->addItem(tr("Dark"), int(ThemeChoice::Dark));
    theme_->setCurrentIndex(theme_->findData(int(settings.theme())));
    connect(theme_, &QComboBox::currentIndexChanged, this, [this] {
        const auto choice = ThemeChoice(theme_->currentData().toInt());
        context_.settings().setTheme(choice);
        applyTheme(*qApp, choice);
    });
    appearanceForm->addRow(tr("Theme:"), theme_);

    language_ = new QComboBox(appearance);
    language_->addItem(tr("System language"), QString());
    language_->addItem(QStringLiteral("English"), QStringLiteral("en"));
    language_->addItem(QStringLiteral("简体中文"), QStringLiteral("zh_CN"));
    language_->setCurrentIndex(std::max(0, language_->findData(settings.language())));
    languageNote_ = new QLabel(tr("The new language is used after Tenfold restarts."), appearance);
    languageNote_->setObjectName(QStringLiteral("mutedLabel"));
    languageNote_->setVisible(false);
    connect(language_, &QComboBox::currentIndexChanged, this, [this] {
        context_.settings().setLanguage(language_->currentData().toString());
        languageNote_->setVisible(true);
    });
    appearanceForm->addRow(tr("Language:"), language_);
    appearanceForm->addRow(QString(), languageNote_);
    appearance->setMaximumWidth(860);
    outer->addWidget(appearance);

    // Engine
    auto* engine = new QGroupBox(tr("Inference"), this);
    auto* engineForm = new QFormLayout(engine);
    engineForm->setHorizontalSpacing(18);
    engineForm->setVerticalSpacing(10);
    backend_ = new QComboBox(engine);
    backend_->addItem(tr("Automatic (GPU when available)"), int(BackendChoice::Auto));
    backend_->addItem(tr("CPU"), int(BackendChoice::Cpu));
    backend_->addItem(tr("Vulkan GPU"), int(BackendChoice::Vulkan));
    backend_->setCurrentIndex(backend_->findData(int(settings.backend())));
    connect(backend_, &QComboBox::currentIndexChanged, this,
            [this] { context_.settings().setBackend(BackendChoice(backend_->currentData().toInt())); });
    engineForm->addRow(tr("Compute backend:"), backend_);

    auto* devices = new QLabel(engine);
    devices->setObjectName(QStringLiteral("mutedLabel"));
    devices->setWordWrap(true);
    // Devices are listed on a background thread at start-up; the label fills in when they are.
    auto describeDevices = [this, devices] {
        QStringList deviceLines;
        QStringList softwareDrivers;
        for (const GpuDeviceInfo& d : context_.gpuDevices(true)) {
            if (d.software)
                softwareDrivers << d.name;
            else
                deviceLines << tr("%1 (%2 device memory)").arg(d.name, formatBytes(d.deviceLocalBytes));
        }
        QString devicesText;
        if (!vulkanAvailable(context_.backends().get()))
            devicesText = tr("This build has no Vulkan support; models run on the CPU.");
        else if (!context_.gpuDevicesKnown())
            devicesText = tr("Looking for Vulkan devices…");
        else if (!deviceLines.isEmpty())
            devicesText = deviceLines.join(QLatin1Char('\n'));
        else if (!softwareDrivers.isEmpty())
            devicesText = tr("No GPU found, only the software Vulkan driver %1. Automatic uses the CPU, "
                             "which is faster; choose Vulkan GPU to run on the software driver anyway.")
                              .arg(softwareDrivers.join(QStringLiteral(", ")));
        else
            devicesText = tr("No Vulkan device found; models run on the CPU.");
        devices->setText(devicesText);
    };
    describeDevices();
    connect(&context_, &AppContext::gpuDevicesReady, devices, describeDevices);
    engineForm->addRow(tr("GPU devices:"), devices);

    threads_ = new QSpinBox(engine);
    threads_->setRange(0, std::max(1, QThread::idealThreadCount()));
    threads_->setSpecialValueText(tr("All cores (%1)").arg(QThread::idealThreadCount()));
    threads_->setValue(settings.threads());
    connect(threads_, &QSpinBox::valueChanged, this, [this](int v) { context_.settings().setThreads(v); });
    engineForm->addRow(tr("CPU threads:"), threads_);

    context_size_ = new QSpinBox(engine);
    context_size_->setRange(0, 131072);
    context_size_->setSingleStep(256);
    context_size_->setSpecialValueText(tr("Model's training context"));
    context_size_->setValue(settings.contextSize());
    connect(context_size_, &QSpinBox::valueChanged, this,
            [this](int v) { context_.settings().setContextSize(v); });
    engineForm->addRow(tr("Context length:"), context_size_);
    auto* engineNote = new QLabel(tr("Backend, threads and context length apply the next time a model is loaded."), engine);
    engineNote->setObjectName(QStringLiteral("mutedLabel"));
    engineNote->setWordWrap(true);
    engineForm->addRow(QString(), engineNote);
    engine->setMaximumWidth(860);
    outer->addWidget(engine);

    // Storage
    auto* storage = new QGroupBox(tr("Storage"), this);
    auto* storageForm = new QFormLayout(storage);
    storageForm->setHorizontalSpacing(18);
    auto* dataDir = new QLabel(QDir::toNativeSeparators(context_.dataDir()), storage);
    dataDir->setTextInteractionFlags(Qt::TextSelectableByMouse);
    dataDir->setWordWrap(true);
    storageForm->addRow(tr("Data folder:"), dataDir);
    storage->setMaximumWidth(860);
    outer->addWidget(storage);
    outer->addStretch(1);
}

} // namespace tenfold::ui
