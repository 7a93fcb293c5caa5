// The UI reaches GPU devices only through the engine's BackendRegistry (filled by app/): no file
// under ui/ may include the Vulkan backend's headers (gpu/..., vk/..., vulkan_*.h, <vulkan/...>)
// or test for the TENFOLD_HAVE_VULKAN build flag. ui/CMakeLists.txt refuses to link tenfold_gpu.
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QtTest>

namespace {

// "path:line: text" for each forbidden include or build-flag test in `file`.
QStringList violations(const QString& file)
{
    static const QRegularExpression include(QStringLiteral("^\\s*#\\s*include\\s*[<\"]([^>\"]+)[>\"]"));
    static const QRegularExpression forbidden(QStringLiteral("^(gpu/|vk/)|vulkan"),
                                              QRegularExpression::CaseInsensitiveOption);
    QStringList out;
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        return {file + QStringLiteral(": cannot be read")};
    int line = 0;
    while (!f.atEnd()) {
        const QString text = QString::fromUtf8(f.readLine());
        ++line;
        const auto m = include.match(text);
        if ((m.hasMatch() && forbidden.match(m.captured(1)).hasMatch()) || text.contains(QStringLiteral("TENFOLD_HAVE_VULKAN")))
            out << QStringLiteral("%1:%2: %3").arg(file).arg(line).arg(text.trimmed());
    }
    return out;
}

QStringList scan(const QString& folder)
{
    QStringList out;
    QDirIterator it(folder, {QStringLiteral("*.h"), QStringLiteral("*.cpp"), QStringLiteral("*.hpp")}, QDir::Files,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        out << violations(it.next());
    return out;
}

} // namespace

class TestUiLayering : public QObject {
    Q_OBJECT
private slots:
    void checkerCatchesAVulkanInclude()
    {
        // The check itself must see what it is looking for.
        QTemporaryDir dir;
        QFile f(dir.filePath(QStringLiteral("bad.cpp")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("#include \"session/engine_types.h\"\n#  include \"vulkan_backend.h\"\n#include <gpu/vk/device.h>\n"
                "#include \"vk/memory.h\"\n#if defined(TENFOLD_HAVE_VULKAN)\n#endif\n");
        f.close();
        QCOMPARE(scan(dir.path()).size(), 4);
    }

    void uiNeverIncludesTheGpuBackend()
    {
        const QString ui = QStringLiteral(TENFOLD_SOURCE_DIR "/ui");
        QVERIFY2(QFileInfo(ui).isDir(), qPrintable(ui));
        const QStringList found = scan(ui);
        QVERIFY2(found.isEmpty(), qPrintable(QStringLiteral("ui/ must reach GPUs only through BackendRegistry:\n") +
                                             found.join(QLatin1Char('\n'))));
    }
};

QTEST_MAIN(TestUiLayering)
#include "tst_ui_layering.moc"
