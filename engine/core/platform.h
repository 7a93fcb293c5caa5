#pragma once
// The few operating-system calls the engine and the command-line programs make, behind one
// interface with a POSIX (Linux, macOS) and a Win32 implementation in platform.cpp, so the rest of
// the code has no #ifdef _WIN32. Paths are UTF-8 in std::string and std::filesystem::path built
// with pathFromUtf8 (on Windows the wide-character APIs are used underneath, so non-ASCII file
// names work whatever the ANSI code page is).
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold::platform {

// ---- paths and arguments ---------------------------------------------------------------------

std::filesystem::path pathFromUtf8(std::string_view utf8);
std::string pathToUtf8(const std::filesystem::path& path);

// The program's arguments as UTF-8. On Windows they are read again from GetCommandLineW, because
// main()'s argv is in the ANSI code page and loses characters outside it.
std::vector<std::string> utf8Arguments(int argc, char** argv);

// ---- files -----------------------------------------------------------------------------------

// The text of the calling thread's last OS error (errno, or GetLastError on Windows).
std::string lastErrorText();

// Creates and opens (binary, write-only) a new file named `prefix` + a unique suffix, readable by
// everyone where the OS has such permissions; returns its descriptor and sets `path`, or -1.
int createUniqueFile(const std::string& prefix, std::string& path);
// Writes up to n bytes; returns the count written, 0 for none, or -1 on an error (EINTR retried).
int64_t writeSome(int fd, const void* data, size_t n);
// Opens (creating, mode 0644 where that exists) a file for appending, binary; -1 on failure.
int openForAppend(const std::filesystem::path& path);
bool truncateFile(int fd); // to zero bytes
bool syncFile(int fd);  // data on disk (fsync / _commit)
bool closeFile(int fd);
bool removeFile(const std::string& path);
// Renames `from` over `to`, replacing `to` if it exists, as one step (rename / MoveFileEx).
bool replaceFile(const std::string& from, const std::string& to);
// Makes a rename inside `dir` durable where the OS needs that (Linux: fsync the directory).
void syncDirectory(const std::filesystem::path& dir);

// A read-only memory map of a whole regular file. open() throws IoError (cannot open, not a
// regular file, cannot map) with the path in the message; an empty file maps to size 0, data null.
class MappedFile {
public:
    MappedFile() = default;
    static MappedFile open(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }

private:
    void release();
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
    void* mappingHandle_ = nullptr; // Windows: the file-mapping object
};

// ---- memory and process ----------------------------------------------------------------------

// Aligned heap blocks (std::aligned_alloc does not exist in the Windows C runtime). `bytes` is
// rounded up to a multiple of `alignment`; returns nullptr when out of memory. Free with
// alignedFree only.
void* alignedAlloc(size_t alignment, size_t bytes);
void alignedFree(void* p);
struct AlignedFree {
    void operator()(void* p) const { alignedFree(p); }
};
// A large block that a kernel streams through: alignedAlloc on a 2 MiB boundary, marked for
// transparent huge pages where the OS has them (Linux madvise; elsewhere a plain aligned block),
// so reading it costs one TLB entry per 2 MiB instead of per 4 KiB. Free with alignedFree.
void* allocStreamed(size_t bytes);
// Says that [p, p + bytes) will not be read for a while (a matrix that was copied into another
// layout): the whole pages inside it leave the process's resident set where the OS can do that
// without losing data (Linux MADV_PAGEOUT: file-backed pages are read again from the file if
// touched, anonymous ones need swap and otherwise stay). Contents never change; a no-op elsewhere.
void releaseResidentPages(const void* p, size_t bytes);

uint64_t physicalMemoryBytes(); // 0 when unknown
// Memory the OS could give a new allocation without swapping (Linux: MemAvailable); 0 when unknown.
uint64_t availableMemoryBytes();
uint64_t pageSize();
uint64_t processId();
// Resident set size of this process now and at its peak, in bytes; 0 when unknown.
uint64_t residentBytes();
uint64_t peakResidentBytes();

// ---- time and terminal -----------------------------------------------------------------------

bool localTime(std::time_t t, std::tm& out); // thread-safe localtime
// Standard streams carry bytes unchanged (Windows: binary mode, so "\n" stays "\n" and generated
// text is byte for byte what Linux prints; the console shows UTF-8). A no-op elsewhere.
void useBinaryUtf8Stdio();
bool stdinIsTerminal();

// Calls `handler` when the user presses Ctrl-C (SIGINT, or the Windows console's Ctrl-C and
// Ctrl-Break). The handler runs on a signal context (POSIX) or a system thread (Windows): it may
// only touch lock-free atomics. It returns true when it took care of the interrupt, false to let
// the default action (ending the process) happen. No SA_RESTART: a blocking read returns.
void onInterrupt(bool (*handler)());

// Stop requests for long-running programs (the servers), taken by one waiting thread as ordinary
// code rather than in a signal handler: SIGINT and SIGTERM on POSIX, the console's Ctrl-C,
// Ctrl-Break and close events on Windows. blockStopSignals() runs first in main(), before any
// thread starts (POSIX threads inherit the blocked mask); it also makes a write to a vanished
// client fail with EPIPE instead of killing the process (SIGPIPE ignored).
void blockStopSignals();
// Blocks until a stop request arrives (true) or wakeStopWaiter() is called (false).
bool waitForStopSignal();
void wakeStopWaiter();

} // namespace tenfold::platform
