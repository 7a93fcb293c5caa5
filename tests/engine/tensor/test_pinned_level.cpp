// With TENFOLD_CPU_KERNELS=scalar (set by CTest for this suite) kernels() must be the reference.
#include "tensor/kernels.h"

#include <QtTest>

#include <cstring>

using namespace tenfold;

class ScalarEnvTest : public QObject {
    Q_OBJECT
private slots:
    void forcedScalarUsesReferenceTable()
    {
        QCOMPARE(QByteArray(qgetenv("TENFOLD_CPU_KERNELS")), QByteArray("scalar"));
        QCOMPARE(QByteArray(cpuKernelLevel()), QByteArray("scalar"));
        for (GGMLType t : {GGMLType::F32, GGMLType::F16, GGMLType::Q8_0, GGMLType::Q4_0, GGMLType::Q4_K, GGMLType::Q6_K}) {
            QVERIFY(kernels(t).vecDot == referenceKernels(t).vecDot);
            QVERIFY(kernels(t).quantizeRow == referenceKernels(t).quantizeRow);
            QVERIFY(kernels(t).dequantizeRow == referenceKernels(t).dequantizeRow);
        }
    }
};

QTEST_APPLESS_MAIN(ScalarEnvTest)
#include "test_scalar_env.moc"
