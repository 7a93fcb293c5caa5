#include "dist/serve_protocol.h"

#include "core/error.h"

#include <cstring>
#include <string>
#include <type_traits>

namespace tenfold::dist {
namespace {

// Every rank runs the same build, so numbers go in the machine's own byte order.
class Writer {
public:
    template <class T> void put(const T& v)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        out.insert(out.end(), p, p + sizeof v);
    }
    void put(const std::string& s)
    {
        put(uint64_t(s.size()));
        out.insert(out.end(), s.begin(), s.end());
    }
    template <class T> void put(const std::vector<T>& v)
    {
        put(uint64_t(v.size()));
        for (const T& x : v)
            put(x);
    }
    std::vector<uint8_t> out;
};

class Reader {
public:
    explicit Reader(std::span<const uint8_t> b) : bytes(b) {}
    template <class T> void get(T& v)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        need(sizeof v);
        std::memcpy(&v, bytes.data() + at, sizeof v);
        at += sizeof v;
    }
    void get(std::string& s)
    {
        const uint64_t n = count(1);
        s.assign(reinterpret_cast<const char*>(bytes.data() + at), size_t(n));
        at += size_t(n);
    }
    template <class T> void get(std::vector<T>& v)
    {
        const uint64_t n = count(1);
        v.clear();
        v.resize(size_t(n));
        for (T& x : v)
            get(x);
    }
    void end() const
    {
        if (at != bytes.size())
            throw Error("a serve message has " + std::to_string(bytes.size() - at) + " bytes beyond its end");
    }

private:
    // A length, checked against what is left (each element takes at least minBytes).
    uint64_t count(size_t minBytes)
    {
        uint64_t n = 0;
        get(n);
        if (n > (bytes.size() - at) / minBytes)
            throw Error("a serve message announces " + std::to_string(n) + " elements but holds " +
                        std::to_string(bytes.size() - at) + " more bytes");
        return n;
    }
    void need(size_t n) const
    {
        if (bytes.size() - at < n)
            throw Error("a serve message of " + std::to_string(bytes.size()) + " bytes ends early");
    }
    std::span<const uint8_t> bytes;
    size_t at = 0;
};

static_assert(std::is_trivially_copyable_v<SchedulerMetrics>);
static_assert(std::is_trivially_copyable_v<SamplingParams>);
static_assert(std::is_trivially_copyable_v<TokenLogprob>);

} // namespace

std::vector<uint8_t> encodeServe(const ServeMessage& m)
{
    Writer w;
    w.put(uint8_t(m.op));
    w.put(m.id);
    switch (m.op) {
    case ServeOp::Submit: {
        const ServeRequestParams& p = m.params;
        w.put(p.prompt);
        w.put(p.sampling);
        w.put(int32_t(p.maxTokens));
        w.put(p.stopStrings);
        w.put(uint8_t(p.stopAtEndOfGeneration));
        w.put(int32_t(p.n));
        w.put(int32_t(p.topLogprobs));
        w.put(uint8_t(p.embedding));
        w.put(p.client);
        break;
    }
    case ServeOp::Event:
    case ServeOp::Failed: {
        const ServeEvent& e = m.event;
        w.put(int32_t(e.kind));
        w.put(int32_t(e.choice));
        w.put(e.text);
        w.put(e.tokens);
        w.put(e.logprobs);
        w.put(e.topLogprobs);
        w.put(e.finishReason);
        w.put(e.embedding);
        w.put(int32_t(e.promptTokens));
        w.put(int32_t(e.completionTokens));
        w.put(e.queueMs);
        w.put(e.timeToFirstTokenMs);
        w.put(e.totalMs);
        w.put(e.error);
        w.put(e.errorCode);
        break;
    }
    case ServeOp::Heartbeat:
    case ServeOp::Stopped:
        w.put(m.metrics);
        w.put(m.residentBytes);
        break;
    case ServeOp::Cancel:
    case ServeOp::Stop:
        break;
    }
    return std::move(w.out);
}

void decodeServe(std::span<const uint8_t> bytes, ServeMessage& m)
{
    Reader r(bytes);
    uint8_t op = 0;
    r.get(op);
    if (op < uint8_t(ServeOp::Submit) || op > uint8_t(ServeOp::Failed))
        throw Error("a serve message has the unknown operation " + std::to_string(op));
    m.op = ServeOp(op);
    r.get(m.id);
    int32_t i = 0;
    uint8_t b = 0;
    switch (m.op) {
    case ServeOp::Submit: {
        ServeRequestParams& p = m.params;
        r.get(p.prompt);
        r.get(p.sampling);
        r.get(i), p.maxTokens = i;
        r.get(p.stopStrings);
        r.get(b), p.stopAtEndOfGeneration = b != 0;
        r.get(i), p.n = i;
        r.get(i), p.topLogprobs = i;
        r.get(b), p.embedding = b != 0;
        r.get(p.client);
        break;
    }
    case ServeOp::Event:
    case ServeOp::Failed: {
        ServeEvent& e = m.event;
        r.get(i);
        if (i < int32_t(ServeEvent::Kind::Text) || i > int32_t(ServeEvent::Kind::Error))
            throw Error("a serve event has the unknown kind " + std::to_string(i));
        e.kind = ServeEvent::Kind(i);
        r.get(i), e.choice = i;
        r.get(e.text);
        r.get(e.tokens);
        r.get(e.logprobs);
        r.get(e.topLogprobs);
        r.get(e.finishReason);
        r.get(e.embedding);
        r.get(i), e.promptTokens = i;
        r.get(i), e.completionTokens = i;
        r.get(e.queueMs);
        r.get(e.timeToFirstTokenMs);
        r.get(e.totalMs);
        r.get(e.error);
        r.get(e.errorCode);
        break;
    }
    case ServeOp::Heartbeat:
    case ServeOp::Stopped:
        r.get(m.metrics);
        r.get(m.residentBytes);
        break;
    case ServeOp::Cancel:
    case ServeOp::Stop:
        break;
    }
    r.end();
}

} // namespace tenfold::dist
