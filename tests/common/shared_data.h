#pragma once
// Where tests find ../shared. Suites QSKIP with this message when a file is missing, so a missing
// data set is visible in the log rather than a silent pass.
#include <QString>
#include <filesystem>

namespace tenfold::test {

inline std::filesystem::path sharedDir()
{
    if (const char* env = std::getenv("TENFOLD_SHARED_DIR"); env && *env)
        return env;
    return TENFOLD_SHARED_DIR;
}

inline std::filesystem::path sharedFile(const char* relative) { return sharedDir() / relative; }

inline QString missingMessage(const std::filesystem::path& p)
{
    return QStringLiteral("shared test data missing: %1 (set TENFOLD_SHARED_DIR)")
        .arg(QString::fromStdString(p.string()));
}

} // namespace tenfold::test

// Skips the current test function when a shared file is absent.
#define TENFOLD_REQUIRE_SHARED(pathExpr)                                                    \
    do {                                                                                   \
        if (!std::filesystem::exists(pathExpr))                                            \
            QSKIP(qPrintable(::tenfold::test::missingMessage(pathExpr)));                  \
    } while (0)
