#pragma once
// Force-included into every Qt Test suite (see tests/CMakeLists.txt), so no suite can forget it.
//
// Qt Test's QSKIP leaves a suite's exit code at 0, and CTest would print "Passed" for a suite
// that ran nothing because its data or device was missing. Here every QSKIP is counted, and a
// suite that skipped anything (and failed nothing) exits with kSkipExitCode, which
// tenfold_add_test() registers as CTest's SKIP_RETURN_CODE: CTest then lists it as skipped.
// With TENFOLD_REQUIRE_ALL=1 in the environment (CI sets it: CI has ../shared and lavapipe) a
// QSKIP fails the test function instead, so nothing can be skipped there.
#include <QtTest/qtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tenfold::test {

inline constexpr int kSkipExitCode = 77;

inline int& skippedFunctions()
{
    static int count = 0;
    return count;
}

inline bool skipsAreFailures()
{
    const char* v = std::getenv("TENFOLD_REQUIRE_ALL");
    return v && *v && std::strcmp(v, "0") != 0;
}

inline int suiteExitCode(int failures)
{
    if (failures != 0 || skippedFunctions() == 0)
        return failures;
    std::fprintf(stderr, "tenfold: %d test function(s) skipped; the suite is reported as skipped\n",
                 skippedFunctions());
    return kSkipExitCode;
}

} // namespace tenfold::test

#undef QSKIP_INTERNAL
#define QSKIP_INTERNAL(statement)                                                                  \
    do {                                                                                           \
        if (::tenfold::test::skipsAreFailures()) {                                                 \
            QTest::qFail((QByteArray("skipped, but TENFOLD_REQUIRE_ALL forbids skips: ") +         \
                          static_cast<const char*>(statement)).constData(),                        \
                         __FILE__, __LINE__);                                                      \
            return;                                                                                \
        }                                                                                          \
        ++::tenfold::test::skippedFunctions();                                                     \
        QTest::qSkip(static_cast<const char*>(statement), __FILE__, __LINE__);                     \
        return;                                                                                    \
    } while (false)

// Qt's QTEST_MAIN, QTEST_GUILESS_MAIN and QTEST_APPLESS_MAIN all expand this one macro; the
// suite runs as Qt writes it, and only the exit code is mapped afterwards.
#undef QTEST_MAIN_WRAPPER
#define QTEST_MAIN_WRAPPER(TestObject, ...)                                                        \
    static int tenfoldRunSuite(int argc, char* argv[])                                             \
    {                                                                                              \
        QT_PREPEND_NAMESPACE(QTest::Internal::callInitMain)<TestObject>();                         \
        __VA_ARGS__                                                                                \
        TestObject tc;                                                                             \
        QTEST_SET_MAIN_SOURCE_PATH                                                                 \
        return QTest::qExec(&tc, argc, argv);                                                      \
    }                                                                                              \
    int main(int argc, char* argv[])                                                               \
    {                                                                                              \
        return ::tenfold::test::suiteExitCode(tenfoldRunSuite(argc, argv));                        \
    }
