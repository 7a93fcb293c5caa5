// TENFOLD_CPU_KERNELS pins the kernel level (CTest runs this suite once per level name):
// kernels() must then be exactly that level's table, or the CPU's best level when the name asks
// for more than the CPU has; "scalar" must be the reference table itself.
#include "tensor/cpu_features.h"
#include "tensor/kernels.h"

#include <QtTest>

#include <algorithm>
#include <cstring>

using namespace tenfold;

class PinnedLevelTest : public QObject {
    Q_OBJECT
private slots:
    void pinnedLevelIsUsed()
    {
        const QByteArray pinned = qgetenv("TENFOLD_CPU_KERNELS");
        QVERIFY2(!pinned.isEmpty(), "CTest sets TENFOLD_CPU_KERNELS for this suite");
        int want = -1;
        for (int l = 0; l < kCpuLevels; ++l)
            if (pinned == cpuLevelKey(CpuLevel(l)))
                want = l;
        QVERIFY2(want >= 0, pinned.constData());
        const CpuLevel expected = CpuLevel(std::min(want, int(cpuLevelDetected())));
        qInfo("pinned %s, detected %s, in use %s", pinned.constData(), cpuLevelName(cpuLevelDetected()),
              cpuKernelLevel());
        QCOMPARE(int(cpuKernelLevelInUse()), int(expected));
        QCOMPARE(QByteArray(cpuKernelLevel()), QByteArray(cpuLevelName(expected)));
        for (GGMLType t : {GGMLType::F32, GGMLType::F16, GGMLType::Q8_0, GGMLType::Q4_0, GGMLType::Q4_K, GGMLType::Q6_K}) {
            QVERIFY(kernels(t).vecDot == kernelsAt(expected, t).vecDot);
            QVERIFY(kernels(t).vecDotRows == kernelsAt(expected, t).vecDotRows);
            QVERIFY(kernels(t).quantizeRow == kernelsAt(expected, t).quantizeRow);
            QVERIFY(kernels(t).dequantizeRow == kernelsAt(expected, t).dequantizeRow);
            if (expected == CpuLevel::Scalar)
                QVERIFY(kernels(t).vecDot == referenceKernels(t).vecDot);
        }
    }
};

QTEST_APPLESS_MAIN(PinnedLevelTest)
#include "test_pinned_level.moc"
