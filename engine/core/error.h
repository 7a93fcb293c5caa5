#pragma once
// Typed errors for the engine. Library code never exits or aborts on bad input: it throws one of
// these, and the boundary (CLI main, the UI session) turns it into one message for the user.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tenfold {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A file is not what it claims to be: names the file, the byte offset and the problem.
class FormatError : public Error {
public:
    FormatError(std::string file, uint64_t offset, const std::string& problem)
        : Error(file + ": at byte " + std::to_string(offset) + ": " + problem),
          file_(std::move(file)), offset_(offset) {}
    const std::string& file() const { return file_; }
    uint64_t offset() const { return offset_; }

private:
    std::string file_;
    uint64_t offset_;
};

// Opening, reading, writing or mapping a file failed (missing, permissions, disk full).
class IoError : public Error {
public:
    using Error::Error;
};

// Valid input that this build does not handle (an architecture, a tensor type, a device feature).
class UnsupportedError : public Error {
public:
    using Error::Error;
};

// A caller passed something out of range: a prompt longer than the context, a bad parameter.
class InvalidArgument : public Error {
public:
    using Error::Error;
};

// The user asked to stop; not a failure, but unwinds like one.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

// A compute device failed: lost, out of memory, missing a feature it claimed.
class DeviceError : public Error {
public:
    using Error::Error;
};

// A process that computed part of the work (an MPI rank of a pipeline) is gone or silent; the
// work it held cannot finish (dist::RankLost names the rank).
class PeerLost : public Error {
public:
    using Error::Error;
};

} // namespace tenfold
