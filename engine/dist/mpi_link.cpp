#include "dist/mpi_link.h"

// The C API only: Open MPI's deprecated C++ bindings are not wanted (nor their warnings).
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <unistd.h>

namespace tenfold::dist {
namespace {

std::string mpiError(int code)
{
    char text[MPI_MAX_ERROR_STRING] = {};
    int len = 0;
    MPI_Error_string(code, text, &len);
    return std::string(text, size_t(std::max(0, len)));
}

void checked(int code, const char* what)
{
    if (code != MPI_SUCCESS)
        throw Error(std::string(what) + " failed: " + mpiError(code));
}

} // namespace

MpiLink::MpiLink(int* argc, char*** argv)
{
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised)
        throw Error("MPI is already initialised in this process");
    int provided = 0;
    // One thread at a time calls MPI: the main thread, or (pipeline-parallel serve) the
    // scheduler's thread while the main thread makes no call; the compute threads never do.
    checked(MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    threadLevel_ = provided;
    // Errors come back as codes (turned into RankLost), not the default abort of the job.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);

    // Host and pid of every rank, for the cluster report and for tests that stop one worker.
    constexpr int kHost = 256;
    char host[kHost] = {};
    int len = 0;
    MPI_Get_processor_name(host, &len);
    std::vector<char> hosts(size_t(size_) * kHost);
    std::vector<int64_t> pids(static_cast<size_t>(size_));
    const int64_t pid = int64_t(::getpid());
    checked(MPI_Allgather(host, kHost, MPI_CHAR, hosts.data(), kHost, MPI_CHAR, MPI_COMM_WORLD),
            "gathering host names");
    checked(MPI_Allgather(&pid, 1, MPI_INT64_T, pids.data(), 1, MPI_INT64_T, MPI_COMM_WORLD),
            "gathering process ids");
    for (int r = 0; r < size_; ++r) {
        const char* h = hosts.data() + size_t(r) * kHost;
        ranks_.push_back({r, std::string(h, strnlen(h, kHost)), pids[size_t(r)]});
    }
}

bool MpiLink::serializedThreads() const
{
    return threadLevel_ >= MPI_THREAD_SERIALIZED;
}

MpiLink::~MpiLink()
{
    // Notes still in flight (a peer that never took them) are cancelled, not waited for.
    for (auto& [request, bytes] : posted_) {
        auto* r = static_cast<MPI_Request*>(request);
        int done = 0;
        MPI_Test(r, &done, MPI_STATUS_IGNORE);
        if (!done) {
            MPI_Cancel(r);
            MPI_Request_free(r);
        }
        delete r;
    }
    if (!aborted_)
        MPI_Finalize();
}

void MpiLink::abort(int code)
{
    aborted_ = true;
    MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code); // MPI_Abort does not return; this is for the compiler and for broken runtimes
}

void MpiLink::wait(void* requestPtr, int peer, const char* what, const Clock::time_point* deadline,
                   const std::function<void()>* whileWaiting)
{
    MPI_Request& request = *static_cast<MPI_Request*>(requestPtr);
    // Polling, not MPI_Wait: MPI_Wait has no timeout. The back-off keeps an idle rank from
    // taking a core from the compute threads of another rank on the same machine (mpirun
    // --oversubscribe), while a reply that arrives at once is seen within microseconds.
    int spins = 0;
    for (;;) {
        int done = 0;
        MPI_Status status;
        const int rc = MPI_Test(&request, &done, &status);
        if (rc != MPI_SUCCESS)
            throw RankLost(peer, std::string(what) + ": " + mpiError(rc));
        if (done)
            return;
        if (deadline && Clock::now() >= *deadline) {
            MPI_Cancel(&request);
            MPI_Request_free(&request);
            throw RankLost(peer, std::string("no answer to ") + what + " within the time limit");
        }
        if (whileWaiting && *whileWaiting)
            (*whileWaiting)();
        ++spins;
        if (spins < 64)
            std::this_thread::yield();
        else
            std::this_thread::sleep_for(std::chrono::microseconds(spins < 1024 ? 50 : 1000));
    }
}

void MpiLink::send(int dest, int tag, const void* data, size_t bytes, Clock::time_point deadline,
                   const std::function<void()>& whileWaiting)
{
    if (bytes > size_t(INT32_MAX))
        throw InvalidArgument("a message of " + std::to_string(bytes) + " bytes is larger than MPI's 2 GiB count");
    MPI_Request request;
    const int rc = MPI_Isend(data, int(bytes), MPI_BYTE, dest, tag, MPI_COMM_WORLD, &request);
    if (rc != MPI_SUCCESS)
        throw RankLost(dest, "sending: " + mpiError(rc));
    wait(&request, dest, "a send", &deadline, &whileWaiting);
}

void MpiLink::receive(int source, int tag, std::vector<uint8_t>& out, Clock::time_point deadline)
{
    // The length is not known in advance: probe (polled, with the deadline), then receive.
    int spins = 0;
    MPI_Status status;
    for (;;) {
        int found = 0;
        const int rc = MPI_Iprobe(source, tag, MPI_COMM_WORLD, &found, &status);
        if (rc != MPI_SUCCESS)
            throw RankLost(source, "waiting for a message: " + mpiError(rc));
        if (found)
            break;
        if (Clock::now() >= deadline)
            throw RankLost(source, "no answer within the time limit");
        ++spins;
        if (spins < 64)
            std::this_thread::yield();
        else
            std::this_thread::sleep_for(std::chrono::microseconds(spins < 1024 ? 50 : 1000));
    }
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    out.resize(size_t(count));
    MPI_Request request;
    const int rc = MPI_Irecv(out.data(), count, MPI_BYTE, source, tag, MPI_COMM_WORLD, &request);
    if (rc != MPI_SUCCESS)
        throw RankLost(source, "receiving: " + mpiError(rc));
    wait(&request, source, "a receive", &deadline);
}

int MpiLink::tryReceive(int source, int tag, std::vector<uint8_t>& out, Clock::time_point deadline)
{
    MPI_Status status;
    int found = 0;
    const int src = source == kAnySource ? MPI_ANY_SOURCE : source;
    const int rc = MPI_Iprobe(src, tag, MPI_COMM_WORLD, &found, &status);
    if (rc != MPI_SUCCESS)
        throw RankLost(source, "waiting for a message: " + mpiError(rc));
    if (!found)
        return -1;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    out.resize(size_t(count));
    MPI_Request request;
    const int from = status.MPI_SOURCE;
    const int rc2 = MPI_Irecv(out.data(), count, MPI_BYTE, from, tag, MPI_COMM_WORLD, &request);
    if (rc2 != MPI_SUCCESS)
        throw RankLost(from, "receiving: " + mpiError(rc2));
    wait(&request, from, "a receive", &deadline);
    return from;
}

void MpiLink::post(int dest, int tag, const void* data, size_t bytes)
{
    // Finished notes are freed first, so the list stays short.
    for (size_t i = 0; i < posted_.size();) {
        int done = 0;
        MPI_Test(static_cast<MPI_Request*>(posted_[i].first), &done, MPI_STATUS_IGNORE);
        if (done) {
            delete static_cast<MPI_Request*>(posted_[i].first);
            posted_.erase(posted_.begin() + std::ptrdiff_t(i));
        } else {
            ++i;
        }
    }
    auto* request = new MPI_Request;
    posted_.emplace_back(request, std::vector<uint8_t>(static_cast<const uint8_t*>(data),
                                                       static_cast<const uint8_t*>(data) + bytes));
    const int rc = MPI_Isend(posted_.back().second.data(), int(bytes), MPI_BYTE, dest, tag, MPI_COMM_WORLD, request);
    if (rc != MPI_SUCCESS)
        throw RankLost(dest, "sending a note: " + mpiError(rc));
}

void MpiLink::receiveForever(int source, int tag, std::vector<uint8_t>& out)
{
    receive(source, tag, out, Clock::time_point::max());
}

} // namespace tenfold::dist
