#pragma once
// The hub client's HTTP layer over cpp-httplib (Debian's build, with OpenSSL: https:// works).
// Redirects are followed here rather than by httplib, so that the access token goes only to the
// hub's own origin and never to the storage host a download redirects to (as Hugging Face's own
// client does), and so that a relative Location is resolved against the URL that sent it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace tenfold::hub {

struct Url {
    std::string scheme;          // "http" or "https"
    std::string host;
    int port = 0;
    std::string target;          // path and query, starting with '/'
    std::string origin() const;  // "https://host[:port]"
};
// Throws InvalidArgument naming the text when it is not an absolute http(s) URL.
Url parseUrl(const std::string& text);
// `location` (absolute, or relative to `base`) as an absolute URL.
std::string resolveUrl(const Url& base, const std::string& location);
// Percent-encodes a path segment or query value (unreserved characters kept; '/' kept when
// keepSlash, for repository ids and file paths).
std::string percentEncode(const std::string& text, bool keepSlash);

// Lets another thread abort a transfer at once: cancel() sets the flag and shuts the open
// connection down, so a stalled server does not hold a cancel until the read timeout.
class CancelToken {
public:
    void cancel();
    bool cancelled() const { return flag_.load(); }
    void reset() { flag_ = false; }
    // The transfer registers how to abort its connection while it runs (empty to clear).
    void setAbort(std::function<void()> abort);

private:
    std::atomic<bool> flag_{false};
    std::mutex mutex_;
    std::function<void()> abort_;
};

struct HttpSettings {
    std::string token;           // sent as "Authorization: Bearer" to tokenOrigin only
    std::string tokenOrigin;     // the hub endpoint's origin
    int connectTimeoutSeconds = 15;
    int readTimeoutSeconds = 60;
    int maxRedirects = 10;
};

struct TextResponse {
    std::string body;
    std::string nextPage;        // absolute URL of Link: <...>; rel="next", or empty
};
// GET that must answer 2xx; follows redirects. Throws HubError (status and a message naming the
// URL; 401/403 say how to give a token) or Cancelled.
TextResponse getText(const HttpSettings& settings, const std::string& url, CancelToken* cancel = nullptr);

struct StreamResult {
    uint64_t offset = 0;         // where the body starts in the file: the Range start if the
                                 // server honoured it (206), else 0 (200: the whole file)
    uint64_t totalSize = 0;      // whole file size from Content-Range/Content-Length, 0 if unknown
    bool stopped = false;        // the sink returned false (it knows why)
};
// GET of a file from byte `rangeStart` (no Range header when 0). `onStart` is called once with
// the offset the body starts at before any data; `sink` receives the body and returns false to
// stop (the result then says `stopped`; the sink knows why). Throws HubError on a non-2xx answer
// or a failed connection, Cancelled when `cancel` fired.
StreamResult getStream(const HttpSettings& settings, const std::string& url, uint64_t rangeStart,
                       const std::function<void(const StreamResult&)>& onStart,
                       const std::function<bool(const char*, size_t)>& sink, CancelToken* cancel);

} // namespace tenfold::hub
