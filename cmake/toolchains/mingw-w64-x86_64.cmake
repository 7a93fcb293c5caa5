# Cross-compiling Tenfold for 64-bit Windows with Debian's mingw-w64 (g++-mingw-w64-x86-64-posix).
# The posix thread model is required: the engine uses std::thread, std::mutex and
# std::condition_variable, which the win32 thread model of GCC 12 does not provide.
#   cmake -S . -B build-windows -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake
# scripts/build-windows.sh does this with the options the cross build needs.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(TENFOLD_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${TENFOLD_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${TENFOLD_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${TENFOLD_MINGW_PREFIX}-windres)

# Look for libraries and headers only in the mingw sysroot (and the few header-only libraries
# added explicitly), never in the build machine's /usr/lib.
set(CMAKE_FIND_ROOT_PATH /usr/${TENFOLD_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Ship executables that need no mingw DLLs beside them (libstdc++, libgcc, winpthread).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# Tests under wine run the cross-compiled programs.
set(CMAKE_CROSSCOMPILING_EMULATOR wine64)
