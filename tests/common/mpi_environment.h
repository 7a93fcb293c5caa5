#pragma once
// The environment the MPI suites start mpirun with.
#include <QProcessEnvironment>

#include <unistd.h>

namespace tenfold::test {

inline QProcessEnvironment mpiEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Open MPI refuses to start as root unless told twice; CI may or may not run as root.
    if (::getuid() == 0) {
        env.insert("OMPI_ALLOW_RUN_AS_ROOT", "1");
        env.insert("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    return env;
}

} // namespace tenfold::test
