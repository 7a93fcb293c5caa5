#include "hub/hub_http.h"

#include "core/error.h"
#include "hub/hub_types.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <regex>

namespace tenfold::hub {

namespace {

constexpr size_t kMaxTextBody = 64u << 20;   // a listing larger than this is not a hub answer
constexpr size_t kMaxErrorBody = 4096;

std::string statusText(int status)
{
    switch (status) {
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 416: return "416 Range Not Satisfiable";
    case 429: return "429 Too Many Requests";
    case 500: return "500 Internal Server Error";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    default: return std::to_string(status);
    }
}

// The hub answers errors as {"error": "..."}; anything else is shown as (short) text.
std::string serverMessage(const std::string& body)
{
    if (body.empty())
        return {};
    try {
        const auto j = nlohmann::json::parse(body);
        if (j.is_object() && j.contains("error") && j["error"].is_string())
            return j["error"].get<std::string>();
    } catch (const nlohmann::json::exception&) {
    }
    std::string text = body.substr(0, 200);
    for (char& c : text)
        if (c == '\n' || c == '\r')
            c = ' ';
    return text;
}

[[noreturn]] void throwStatus(int status, const std::string& url, const std::string& body)
{
    std::string message = url + ": " + statusText(status);
    const std::string said = serverMessage(body);
    if (!said.empty())
        message += " (" + said + ")";
    if (status == 401)
        message += "; this repository needs an access token: set HF_TOKEN or store one in the keyring";
    else if (status == 403)
        message += "; the token has no access to this repository (a gated model: accept its terms on the hub)";
    else if (status == 404)
        message += "; check the repository id, the revision and the file name";
    throw HubError(status, message);
}

[[noreturn]] void throwTransport(httplib::Error error, const std::string& url)
{
    throw HubError(0, url + ": " + httplib::to_string(error));
}

struct Answer {
    int status = 0;
    std::string location;
    std::string link;
    uint64_t contentLength = 0;
    std::string contentRange;
};

bool isRedirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

// One request to one URL, no redirect following. onHeaders runs when the status line and headers
// are in; body chunks of a 2xx answer go to onBody, others are kept (short) for the error text.
httplib::Result exchange(const HttpSettings& settings, const Url& url, uint64_t rangeStart,
                         Answer& answer, std::string& errorBody,
                         const std::function<void(const Answer&)>& onHeaders,
                         const std::function<bool(const char*, size_t)>& onBody, CancelToken* cancel)
{
    httplib::Client client(url.origin());
    client.set_connection_timeout(settings.connectTimeoutSeconds, 0);
    client.set_read_timeout(settings.readTimeoutSeconds, 0);
    client.set_follow_location(false);
    // Raw bytes: a compressed answer would break byte ranges and the checksum of what is stored.
    client.set_decompress(false);
    httplib::Headers headers{{"User-Agent", "tenfold/0.1"}, {"Accept-Encoding", "identity"}};
    if (!settings.token.empty() && url.origin() == settings.tokenOrigin)
        headers.emplace("Authorization", "Bearer " + settings.token);
    if (rangeStart > 0)
        headers.emplace("Range", "bytes=" + std::to_string(rangeStart) + "-");
    if (cancel)
        cancel->setAbort([&client] { client.stop(); });
    auto result = client.Get(
        url.target, headers,
        [&](const httplib::Response& r) {
            answer.status = r.status;
            answer.location = r.get_header_value("Location");
            answer.link = r.get_header_value("Link");
            answer.contentRange = r.get_header_value("Content-Range");
            if (r.has_header("Content-Length"))
                answer.contentLength = std::strtoull(r.get_header_value("Content-Length").c_str(), nullptr, 10);
            if (r.status >= 200 && r.status < 300 && onHeaders)
                onHeaders(answer);
            return !(cancel && cancel->cancelled());
        },
        [&](const char* data, size_t size) {
            if (cancel && cancel->cancelled())
                return false;
            if (answer.status >= 200 && answer.status < 300)
                return onBody(data, size);
            if (errorBody.size() < kMaxErrorBody)
                errorBody.append(data, std::min(size, kMaxErrorBody - errorBody.size()));
            return true;
        });
    if (cancel)
        cancel->setAbort({});
    return result;
}

// Follows redirects from `start`; returns the final 2xx answer's URL. Throws on anything else.
std::string follow(const HttpSettings& settings, const std::string& start, uint64_t rangeStart, Answer& answer,
                   const std::function<void(const Answer&)>& onHeaders,
                   const std::function<bool(const char*, size_t)>& onBody, CancelToken* cancel, bool& stopped)
{
    std::string current = start;
    for (int hop = 0; hop <= settings.maxRedirects; ++hop) {
        const Url url = parseUrl(current);
        answer = Answer{};
        std::string errorBody;
        bool sinkStopped = false;
        auto body = [&](const char* d, size_t n) {
            const bool more = onBody(d, n);
            sinkStopped = !more;
            return more;
        };
        auto result = exchange(settings, url, rangeStart, answer, errorBody, onHeaders, body, cancel);
        if (cancel && cancel->cancelled())
            throw Cancelled();
        if (!result) {
            if (result.error() == httplib::Error::Canceled && sinkStopped) {
                stopped = true;
                return current;
            }
            throwTransport(result.error(), current);
        }
        if (isRedirect(answer.status)) {
            if (answer.location.empty())
                throw HubError(answer.status, current + ": redirect without a Location header");
            current = resolveUrl(url, answer.location);
            continue;
        }
        if (answer.status < 200 || answer.status >= 300)
            throwStatus(answer.status, current, errorBody);
        return current;
    }
    throw HubError(0, start + ": more than " + std::to_string(settings.maxRedirects) + " redirects");
}

} // namespace

std::string Url::origin() const
{
    const bool defaultPort = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
    return scheme + "://" + host + (defaultPort ? "" : ":" + std::to_string(port));
}

Url parseUrl(const std::string& text)
{
    static const std::regex re(R"(^(https?)://([^/:?#]+|\[[0-9a-fA-F:.]+\])(?::([0-9]{1,5}))?([/?][^#]*)?(#.*)?$)",
                               std::regex::icase);
    std::smatch m;
    if (!std::regex_match(text, m, re))
        throw InvalidArgument("not an http(s) URL: '" + text + "'");
    Url u;
    u.scheme = m[1].str();
    for (char& c : u.scheme)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    u.host = m[2].str();
    u.port = m[3].matched ? std::stoi(m[3].str()) : (u.scheme == "https" ? 443 : 80);
    if (u.port < 1 || u.port > 65535)
        throw InvalidArgument("bad port in URL '" + text + "'");
    u.target = m[4].matched ? m[4].str() : "/";
    if (u.target[0] == '?')
        u.target = "/" + u.target;
    return u;
}

std::string resolveUrl(const Url& base, const std::string& location)
{
    if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0)
        return location;
    if (location.rfind("//", 0) == 0)
        return base.scheme + ":" + location;
    if (!location.empty() && location[0] == '/')
        return base.origin() + location;
    // Relative to the base path's folder.
    std::string path = base.target.substr(0, base.target.find('?'));
    path = path.substr(0, path.rfind('/') + 1);
    return base.origin() + path + location;
}

std::string percentEncode(const std::string& text, bool keepSlash)
{
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/'))
            out += char(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

void CancelToken::cancel()
{
    flag_ = true;
    std::lock_guard lock(mutex_);
    if (abort_)
        abort_();
}

void CancelToken::setAbort(std::function<void()> abort)
{
    std::lock_guard lock(mutex_);
    abort_ = std::move(abort);
    if (abort_ && flag_)
        abort_();
}

TextResponse getText(const HttpSettings& settings, const std::string& url, CancelToken* cancel)
{
    TextResponse out;
    Answer answer;
    bool stopped = false;
    bool tooLarge = false;
    const std::string final = follow(
        settings, url, 0, answer, nullptr,
        [&](const char* d, size_t n) {
            if (out.body.size() + n > kMaxTextBody) {
                tooLarge = true;
                return false;
            }
            out.body.append(d, n);
            return true;
        },
        cancel, stopped);
    if (tooLarge)
        throw HubError(answer.status, url + ": answer larger than " + std::to_string(kMaxTextBody >> 20) + " MiB");
    // RFC 8288 Link header; the hub pages long listings with rel="next".
    static const std::regex next(R"(<([^>]+)>\s*;\s*rel="?next"?)");
    std::smatch m;
    if (std::regex_search(answer.link, m, next))
        out.nextPage = resolveUrl(parseUrl(final), m[1].str());
    return out;
}

StreamResult getStream(const HttpSettings& settings, const std::string& url, uint64_t rangeStart,
                       const std::function<void(const StreamResult&)>& onStart,
                       const std::function<bool(const char*, size_t)>& sink, CancelToken* cancel)
{
    StreamResult result;
    Answer answer;
    bool stopped = false;
    const std::string final = follow(
        settings, url, rangeStart, answer,
        [&](const Answer& a) {
            result = StreamResult{};
            if (a.status == 206) {
                // Content-Range: bytes START-END/TOTAL (TOTAL may be '*').
                static const std::regex range(R"(bytes\s+([0-9]+)-([0-9]+)/([0-9]+|\*))");
                std::smatch m;
                if (std::regex_search(a.contentRange, m, range)) {
                    result.offset = std::strtoull(m[1].str().c_str(), nullptr, 10);
                    if (m[3].str() != "*")
                        result.totalSize = std::strtoull(m[3].str().c_str(), nullptr, 10);
                } else {
                    result.offset = rangeStart;
                }
            } else {
                result.offset = 0;
                result.totalSize = a.contentLength;
            }
            if (onStart)
                onStart(result);
        },
        sink, cancel, stopped);
    result.stopped = stopped;
    (void)final;
    return result;
}

} // namespace tenfold::hub
