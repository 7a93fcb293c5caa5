// The POSIX and Win32 implementations of core/platform.h. Everything OS-specific in the engine
// and the command-line programs is in this file.
#include "core/platform.h"

#include "core/error.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <psapi.h>
#include <shellapi.h>
#include <fcntl.h>
#include <io.h>
#include <malloc.h>
#include <sys/stat.h>
#else
#include <csignal>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace tenfold::platform {

// ---- paths and arguments ---------------------------------------------------------------------

std::filesystem::path pathFromUtf8(std::string_view utf8)
{
    return std::filesystem::path(std::u8string(reinterpret_cast<const char8_t*>(utf8.data()), utf8.size()));
}

std::string pathToUtf8(const std::filesystem::path& path)
{
    const std::u8string s = path.u8string();
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

#ifdef _WIN32
namespace {
std::string narrow(const wchar_t* w, int n)
{
    const int bytes = WideCharToMultiByte(CP_UTF8, 0, w, n, nullptr, 0, nullptr, nullptr);
    std::string out(size_t(bytes > 0 ? bytes : 0), '\0');
    if (bytes > 0)
        WideCharToMultiByte(CP_UTF8, 0, w, n, out.data(), bytes, nullptr, nullptr);
    return out;
}
std::wstring widen(const std::string& s)
{
    const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), int(s.size()), nullptr, 0);
    std::wstring out(size_t(n > 0 ? n : 0), L'\0');
    if (n > 0)
        MultiByteToWideChar(CP_UTF8, 0, s.data(), int(s.size()), out.data(), n);
    return out;
}
} // namespace
#endif

std::vector<std::string> utf8Arguments(int argc, char** argv)
{
#ifdef _WIN32
    int n = 0;
    LPWSTR* wide = CommandLineToArgvW(GetCommandLineW(), &n);
    if (wide && n == argc) {
        std::vector<std::string> out;
        out.reserve(size_t(n));
        for (int i = 0; i < n; ++i)
            out.push_back(narrow(wide[i], int(wcslen(wide[i]))));
        LocalFree(wide);
        return out;
    }
    if (wide)
        LocalFree(wide);
#endif
    return std::vector<std::string>(argv, argv + argc);
}

// ---- files -----------------------------------------------------------------------------------

std::string lastErrorText()
{
#ifdef _WIN32
    const DWORD code = GetLastError();
    if (code != 0) {
        wchar_t* text = nullptr;
        const DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                           FORMAT_MESSAGE_IGNORE_INSERTS,
                                       nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
        std::string out = n ? narrow(text, int(n)) : "Windows error " + std::to_string(code);
        if (text)
            LocalFree(text);
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.'))
            out.pop_back();
        return out;
    }
#endif
    return std::strerror(errno);
}

int createUniqueFile(const std::string& prefix, std::string& path)
{
#ifdef _WIN32
    // _wmktemp_s gives at most 26 names per template; a counter and the process id make clashes
    // between concurrent writers impossible and O_EXCL catches anything else.
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
        const std::string candidate = prefix + std::to_string(GetCurrentProcessId()) + "-" +
                                      std::to_string(counter.fetch_add(1)) + "-" +
                                      std::to_string(GetTickCount64() % 100000);
        const int fd = _wopen(widen(candidate).c_str(), _O_CREAT | _O_EXCL | _O_WRONLY | _O_BINARY,
                              _S_IREAD | _S_IWRITE);
        if (fd >= 0) {
            path = candidate;
            return fd;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
#else
    std::string name = prefix + "XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
        return -1;
    ::fchmod(fd, 0644); // mkstemp makes 0600; a model file is normally world-readable
    path = name;
    return fd;
#endif
}

int64_t writeSome(int fd, const void* data, size_t n)
{
#ifdef _WIN32
    const unsigned chunk = unsigned(n > (1u << 30) ? (1u << 30) : n);
    const int w = ::_write(fd, data, chunk);
    return w;
#else
    for (;;) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        return int64_t(w);
    }
#endif
}

int openForAppend(const std::filesystem::path& path)
{
#ifdef _WIN32
    return ::_wopen(path.c_str(), _O_WRONLY | _O_CREAT | _O_APPEND | _O_BINARY, _S_IREAD | _S_IWRITE);
#else
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
#endif
}

bool truncateFile(int fd)
{
#ifdef _WIN32
    return ::_chsize_s(fd, 0) == 0;
#else
    return ::ftruncate(fd, 0) == 0;
#endif
}

bool syncFile(int fd)
{
#ifdef _WIN32
    return ::_commit(fd) == 0;
#else
    return ::fsync(fd) == 0;
#endif
}

bool closeFile(int fd)
{
#ifdef _WIN32
    return ::_close(fd) == 0;
#else
    return ::close(fd) == 0;
#endif
}

bool removeFile(const std::string& path)
{
#ifdef _WIN32
    return DeleteFileW(widen(path).c_str()) != 0;
#else
    return ::unlink(path.c_str()) == 0;
#endif
}

bool replaceFile(const std::string& from, const std::string& to)
{
#ifdef _WIN32
    return MoveFileExW(widen(from).c_str(), widen(to).c_str(),
                       MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) != 0;
#else
    return ::rename(from.c_str(), to.c_str()) == 0;
#endif
}

void syncDirectory(const std::filesystem::path& dir)
{
#ifndef _WIN32
    // Best effort: a failure leaves a complete file that may not survive a power cut.
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
#else
    (void)dir; // NTFS journals the rename with MOVEFILE_WRITE_THROUGH
#endif
}

// ---- memory maps -----------------------------------------------------------------------------

MappedFile MappedFile::open(const std::filesystem::path& path)
{
    const std::string label = pathToUtf8(path);
    MappedFile m;
#ifdef _WIN32
    HANDLE file = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr,
                              OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE)
        throw IoError("cannot open '" + label + "': " + lastErrorText());
    BY_HANDLE_FILE_INFORMATION info{};
    if (!GetFileInformationByHandle(file, &info)) {
        const std::string why = lastErrorText();
        CloseHandle(file);
        throw IoError("cannot stat '" + label + "': " + why);
    }
    if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        CloseHandle(file);
        throw IoError("'" + label + "' is not a regular file");
    }
    m.size_ = (uint64_t(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
    if (m.size_ == 0) {
        CloseHandle(file);
        return m;
    }
    HANDLE mapping = CreateFileMappingW(file, nullptr, PAGE_READONLY, 0, 0, nullptr);
    const std::string mapWhy = mapping ? std::string() : lastErrorText();
    CloseHandle(file); // the mapping keeps the file open
    if (!mapping)
        throw IoError("cannot memory-map '" + label + "': " + mapWhy);
    void* view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
    if (!view) {
        const std::string why = lastErrorText();
        CloseHandle(mapping);
        throw IoError("cannot memory-map '" + label + "': " + why);
    }
    m.mappingHandle_ = mapping;
    m.data_ = static_cast<const uint8_t*>(view);
#else
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw IoError("cannot open '" + label + "': " + lastErrorText());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const std::string why = lastErrorText();
        ::close(fd);
        throw IoError("cannot stat '" + label + "': " + why);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw IoError("'" + label + "' is not a regular file");
    }
    m.size_ = uint64_t(st.st_size);
    if (m.size_ == 0) {
        ::close(fd);
        return m;
    }
    // MAP_PRIVATE + PROT_READ: pages come from the page cache on demand, so opening a large model
    // costs only the header walk, and tensor views are the file's own pages.
    void* p = ::mmap(nullptr, size_t(m.size_), PROT_READ, MAP_PRIVATE, fd, 0);
    const std::string why = p == MAP_FAILED ? lastErrorText() : std::string();
    ::close(fd); // the mapping outlives the descriptor
    if (p == MAP_FAILED)
        throw IoError("cannot memory-map '" + label + "': " + why);
    m.data_ = static_cast<const uint8_t*>(p);
#endif
    return m;
}

void MappedFile::release()
{
    if (!data_)
        return;
#ifdef _WIN32
    UnmapViewOfFile(data_);
    CloseHandle(static_cast<HANDLE>(mappingHandle_));
#else
    ::munmap(const_cast<uint8_t*>(data_), size_t(size_));
#endif
    data_ = nullptr;
    mappingHandle_ = nullptr;
    size_ = 0;
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_), size_(other.size_), mappingHandle_(other.mappingHandle_)
{
    other.data_ = nullptr;
    other.size_ = 0;
    other.mappingHandle_ = nullptr;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept
{
    if (this != &other) {
        release();
        data_ = other.data_;
        size_ = other.size_;
        mappingHandle_ = other.mappingHandle_;
        other.data_ = nullptr;
        other.size_ = 0;
        other.mappingHandle_ = nullptr;
    }
    return *this;
}

// ---- memory and process ----------------------------------------------------------------------

void* alignedAlloc(size_t alignment, size_t bytes)
{
    const size_t rounded = (bytes + alignment - 1) / alignment * alignment;
#ifdef _WIN32
    return _aligned_malloc(rounded ? rounded : alignment, alignment);
#else
    return std::aligned_alloc(alignment, rounded ? rounded : alignment);
#endif
}

void* allocStreamed(size_t bytes)
{
    constexpr size_t kHuge = size_t(2) << 20;
    void* p = alignedAlloc(kHuge, bytes);
#if !defined(_WIN32) && defined(MADV_HUGEPAGE)
    if (p) // advice only: without it (THP off) the block is still valid
        madvise(p, (bytes + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);
#endif
    return p;
}

void releaseResidentPages(const void* p, size_t bytes)
{
#if !defined(_WIN32) && defined(MADV_PAGEOUT)
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (uintptr_t(p) + page - 1) / page * page, end = (uintptr_t(p) + bytes) / page * page;
    if (end > begin)
        madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT); // advice: failure changes nothing
#else
    (void)p;
    (void)bytes;
#endif
}

void alignedFree(void* p)
{
#ifdef _WIN32
    _aligned_free(p);
#else
    std::free(p);
#endif
}

uint64_t physicalMemoryBytes()
{
#ifdef _WIN32
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    return GlobalMemoryStatusEx(&status) ? uint64_t(status.ullTotalPhys) : 0;
#else
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0)
        return 0; // unknown: no limit beyond the allocator's own
    return uint64_t(pages) * uint64_t(page);
#endif
}

uint64_t availableMemoryBytes()
{
#ifdef _WIN32
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    return GlobalMemoryStatusEx(&status) ? uint64_t(status.ullAvailPhys) : 0;
#else
    // /proc files report size 0, so read lines until the end rather than by size.
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, 13, "MemAvailable:") == 0) {
            unsigned long long kb = 0;
            if (std::sscanf(line.c_str() + 13, "%llu", &kb) == 1)
                return uint64_t(kb) * 1024;
        }
    return 0;
#endif
}

uint64_t pageSize()
{
#ifdef _WIN32
    SYSTEM_INFO info{};
    GetSystemInfo(&info);
    return info.dwPageSize;
#else
    const long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? uint64_t(page) : 4096;
#endif
}

uint64_t processId()
{
#ifdef _WIN32
    return GetCurrentProcessId();
#else
    return uint64_t(::getpid());
#endif
}

namespace {
#ifndef _WIN32
// VmRSS / VmHWM from /proc/self/status (Linux); 0 elsewhere.
uint64_t procStatusKb(const char* key)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const size_t keyLen = std::strlen(key);
    while (std::getline(in, line))
        if (line.compare(0, keyLen, key) == 0) {
            unsigned long long kb = 0;
            if (std::sscanf(line.c_str() + keyLen, "%llu", &kb) == 1)
                return uint64_t(kb) * 1024;
        }
    return 0;
}
#endif
} // namespace

uint64_t residentBytes()
{
#ifdef _WIN32
    PROCESS_MEMORY_COUNTERS counters{};
    return GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof counters) ? counters.WorkingSetSize : 0;
#else
    return procStatusKb("VmRSS:");
#endif
}

uint64_t peakResidentBytes()
{
#ifdef _WIN32
    PROCESS_MEMORY_COUNTERS counters{};
    return GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof counters) ? counters.PeakWorkingSetSize
                                                                                 : 0;
#else
    return procStatusKb("VmHWM:");
#endif
}

// ---- time and terminal -----------------------------------------------------------------------

bool localTime(std::time_t t, std::tm& out)
{
#ifdef _WIN32
    return localtime_s(&out, &t) == 0;
#else
    return localtime_r(&t, &out) != nullptr;
#endif
}

void useBinaryUtf8Stdio()
{
#ifdef _WIN32
    std::fflush(stdout);
    std::fflush(stderr);
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    SetConsoleOutputCP(CP_UTF8);
    SetConsoleCP(CP_UTF8);
#endif
}

bool stdinIsTerminal()
{
#ifdef _WIN32
    return _isatty(_fileno(stdin)) != 0;
#else
    return ::isatty(STDIN_FILENO) != 0;
#endif
}

namespace {
std::atomic<bool (*)()> gInterruptHandler{nullptr};

#ifdef _WIN32
BOOL WINAPI consoleControl(DWORD type)
{
    if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT)
        return FALSE;
    bool (*handler)() = gInterruptHandler.load();
    return handler && handler() ? TRUE : FALSE; // FALSE: the default handler ends the process
}
#else
extern "C" void sigintHandler(int)
{
    bool (*handler)() = gInterruptHandler.load();
    if (!handler || !handler()) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);
    }
}
#endif
} // namespace

void onInterrupt(bool (*handler)())
{
    gInterruptHandler.store(handler);
#ifdef _WIN32
    SetConsoleCtrlHandler(consoleControl, TRUE);
#else
    struct sigaction action {};
    action.sa_handler = sigintHandler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; // no SA_RESTART: a blocking read of stdin returns
    sigaction(SIGINT, &action, nullptr);
#endif
}

namespace {
std::atomic<bool> gStopWake{false};
#ifdef _WIN32
std::mutex gStopMutex;
std::condition_variable gStopChanged;
bool gStopRequested = false;

BOOL WINAPI stopControl(DWORD type)
{
    if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT && type != CTRL_CLOSE_EVENT &&
        type != CTRL_SHUTDOWN_EVENT)
        return FALSE;
    {
        std::lock_guard<std::mutex> lock(gStopMutex);
        gStopRequested = true;
    }
    gStopChanged.notify_all();
    return TRUE;
}
#else
sigset_t stopSet()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}
#endif
} // namespace

void blockStopSignals()
{
#ifdef _WIN32
    SetConsoleCtrlHandler(stopControl, TRUE);
#else
    const sigset_t set = stopSet();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
#endif
}

bool waitForStopSignal()
{
#ifdef _WIN32
    std::unique_lock<std::mutex> lock(gStopMutex);
    gStopChanged.wait(lock, [] { return gStopRequested || gStopWake.load(); });
    if (gStopWake.exchange(false))
        return false;
    gStopRequested = false;
    return true;
#else
    const sigset_t set = stopSet();
    int sig = 0;
    sigwait(&set, &sig);
    return !gStopWake.exchange(false);
#endif
}

void wakeStopWaiter()
{
    gStopWake = true;
#ifdef _WIN32
    { std::lock_guard<std::mutex> lock(gStopMutex); }
    gStopChanged.notify_all();
#else
    // Every thread blocks SIGTERM, so it stays pending until the waiter's sigwait takes it.
    ::kill(::getpid(), SIGTERM);
#endif
}

} // namespace tenfold::platform
