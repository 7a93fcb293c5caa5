#pragma once
// A loopback stand-in for the Hugging Face Hub, for the hub tests: cpp-httplib servers that
// answer the same paths with the same JSON shapes as the hub's public API
// (https://huggingface.co/docs/hub/api), with files the test makes.
//   hub origin      GET /api/models?search=&filter=gguf...    search
//                   GET /api/models/{owner}/{name}/tree/{rev} listing (paged with Link: rel="next")
//                   GET /{owner}/{name}/resolve/{rev}/{path}   302 to the storage origin (another
//                                                              port, so another origin: the token
//                                                              must not follow), or 307 relative
//                   GET /cdn/{n}                               bytes, for the relative redirect
//   storage origin  GET /lfs/{n}                               bytes (Range honoured by httplib)
// Every request is logged (origin, path, Range, whether Authorization was sent) so tests can
// check what the client did, not only what it returned.
#include <QByteArray>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tenfold::test {

// SHA-256 by coreutils' sha256sum: an oracle independent of the client's OpenSSL digest.
inline std::string sha256sumOf(const QByteArray& bytes)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("blob"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        return {};
    f.close();
    QProcess p;
    p.start(QStringLiteral("sha256sum"), {path});
    p.waitForFinished(60000);
    return QString::fromLatin1(p.readAllStandardOutput()).section(QLatin1Char(' '), 0, 0).toStdString();
}

inline std::string sha256sumOfFile(const QString& path)
{
    QProcess p;
    p.start(QStringLiteral("sha256sum"), {path});
    p.waitForFinished(60000);
    return QString::fromLatin1(p.readAllStandardOutput()).section(QLatin1Char(' '), 0, 0).toStdString();
}

inline QByteArray randomBytes(size_t size, unsigned seed)
{
    std::mt19937 rng(seed);
    QByteArray out(qsizetype(size), Qt::Uninitialized);
    for (qsizetype i = 0; i < out.size(); ++i)
        out[i] = char(rng() & 0xff);
    return out;
}

class HubTestServer {
public:
    enum class Mode {
        Normal,
        CutOnce,     // the first download sends half the bytes, then drops the connection
        Slow,        // 16 KiB every slowDelayMs
        Stall,       // sends 16 KiB, then nothing until the server stops
    };
    enum class Redirect { Storage, Relative };

    struct File {
        std::string repo;
        std::string path;
        QByteArray bytes;
        std::string listedSha;   // what the listing gives (the real SHA unless a test lies)
        Mode mode = Mode::Normal;
        Redirect redirect = Redirect::Storage;
        bool lfs = true;
        int served = 0;          // download requests answered so far
    };
    struct Model {
        std::string id;
        int64_t downloads = 0;
        int64_t likes = 0;
        bool needsToken = false;
    };
    struct Request {
        std::string origin;      // "hub" or "storage"
        std::string path;
        std::string query;
        std::string range;
        bool authorization = false;
    };

    std::string token = "hf_tenfold_loopback_secret_5c1e";
    int treePageSize = 1000;
    int slowDelayMs = 20;

    HubTestServer()
    {
        routes();
        hubPort_ = hub_.bind_to_any_port("127.0.0.1");
        storagePort_ = storage_.bind_to_any_port("127.0.0.1");
        hubThread_ = std::thread([this] { hub_.listen_after_bind(); });
        storageThread_ = std::thread([this] { storage_.listen_after_bind(); });
        // The sockets listen from bind on; this only waits for the accept loops to run.
        while (!hub_.is_running() || !storage_.is_running())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~HubTestServer()
    {
        stopping_ = true;
        hub_.stop();
        storage_.stop();
        hubThread_.join();
        storageThread_.join();
    }

    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hubPort_); }
    std::string storageOrigin() const { return "http://127.0.0.1:" + std::to_string(storagePort_); }

    void addModel(const Model& m)
    {
        std::lock_guard lock(mutex_);
        models_.push_back(m);
    }
    // Returns the file's real SHA-256 (from sha256sum).
    std::string addFile(File f)
    {
        const std::string sha = sha256sumOf(f.bytes);
        if (f.listedSha.empty())
            f.listedSha = sha;
        std::lock_guard lock(mutex_);
        files_.push_back(std::move(f));
        return sha;
    }
    std::vector<Request> requests() const
    {
        std::lock_guard lock(mutex_);
        return log_;
    }
    std::vector<Request> requestsTo(const std::string& origin, const std::string& pathPart) const
    {
        std::vector<Request> out;
        for (const Request& r : requests())
            if (r.origin == origin && r.path.find(pathPart) != std::string::npos)
                out.push_back(r);
        return out;
    }
    int maxConcurrentDownloads() const { return maxActive_.load(); }
    void clearLog()
    {
        std::lock_guard lock(mutex_);
        log_.clear();
        maxActive_ = 0;
    }

private:
    bool authorized(const httplib::Request& req) const
    {
        return req.get_header_value("Authorization") == "Bearer " + token;
    }
    void record(const std::string& origin, const httplib::Request& req)
    {
        Request r;
        r.origin = origin;
        r.path = req.path;
        for (const auto& [k, v] : req.params)
            r.query += (r.query.empty() ? "" : "&") + k + "=" + v;
        r.range = req.get_header_value("Range");
        r.authorization = req.has_header("Authorization");
        std::lock_guard lock(mutex_);
        log_.push_back(r);
    }
    const Model* model(const std::string& id) const
    {
        for (const Model& m : models_)
            if (m.id == id)
                return &m;
        return nullptr;
    }
    static void jsonError(httplib::Response& res, int status, const std::string& message)
    {
        res.status = status;
        res.set_content("{\"error\":\"" + message + "\"}", "application/json");
    }
    static std::string lower(std::string s)
    {
        for (char& c : s)
            c = char(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }

    void serveBytes(size_t index, const httplib::Request& req, httplib::Response& res)
    {
        QByteArray bytes;
        Mode mode;
        int served;
        {
            std::lock_guard lock(mutex_);
            if (index >= files_.size()) {
                jsonError(res, 404, "no such object");
                return;
            }
            bytes = files_[index].bytes;
            mode = files_[index].mode;
            served = files_[index].served++;
        }
        const int now = ++active_;
        for (int seen = maxActive_.load(); now > seen && !maxActive_.compare_exchange_weak(seen, now);) {
        }
        const bool cut = mode == Mode::CutOnce && served == 0;
        // A download stops counting as active once its last byte is written (not when httplib
        // releases it later), so a client that starts the next file at once is not counted twice.
        auto counted = std::make_shared<std::atomic<bool>>(true);
        auto finish = [this, counted] {
            if (counted->exchange(false))
                --active_;
        };
        res.set_content_provider(
            size_t(bytes.size()), "application/octet-stream",
            [this, bytes, mode, cut, finish](size_t offset, size_t length, httplib::DataSink& sink) {
                constexpr size_t kChunk = 16 * 1024;
                size_t sent = 0;
                while (sent < length && !stopping_) {
                    const size_t at = offset + sent;
                    if (cut && at >= size_t(bytes.size()) / 2)
                        return false; // drop the connection halfway
                    size_t n = std::min(kChunk, length - sent);
                    if (cut)
                        n = std::min(n, size_t(bytes.size()) / 2 - at);
                    if (!sink.write(bytes.constData() + at, n))
                        return false;
                    sent += n;
                    if (sent == length) {
                        finish();
                        break;
                    }
                    if (mode == Mode::Slow)
                        std::this_thread::sleep_for(std::chrono::milliseconds(slowDelayMs));
                    if (mode == Mode::Stall)
                        while (!stopping_)
                            std::this_thread::sleep_for(std::chrono::milliseconds(10));
                }
                return sent == length;
            },
            [finish](bool) { finish(); });
        (void)req;
    }

    void routes()
    {
        hub_.Get("/api/models", [this](const httplib::Request& req, httplib::Response& res) {
            record("hub", req);
            const std::string query = lower(req.get_param_value("search"));
            std::string json = "[";
            std::lock_guard lock(mutex_);
            for (const Model& m : models_) {
                if (lower(m.id).find(query) == std::string::npos)
                    continue;
                if (json.size() > 1)
                    json += ",";
                json += "{\"_id\":\"65f0\",\"id\":\"" + m.id + "\",\"likes\":" + std::to_string(m.likes) +
                        ",\"downloads\":" + std::to_string(m.downloads) +
                        ",\"private\":false,\"gated\":" + (m.needsToken ? "\"manual\"" : "false") +
                        ",\"tags\":[\"gguf\",\"llama\",\"text-generation\"],\"pipeline_tag\":\"text-generation\","
                        "\"library_name\":\"gguf\",\"createdAt\":\"2024-03-01T10:00:00.000Z\","
                        "\"lastModified\":\"2024-05-02T12:30:00.000Z\",\"modelId\":\"" + m.id + "\"}";
            }
            json += "]";
            res.set_content(json, "application/json");
        });
        hub_.Get(R"(/api/models/([^/]+)/([^/]+)/tree/([^/]+))", [this](const httplib::Request& req,
                                                                       httplib::Response& res) {
            record("hub", req);
            const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
            std::lock_guard lock(mutex_);
            const Model* m = model(repo);
            if (!m)
                return jsonError(res, 404, "Repository not found");
            if (m->needsToken && !authorized(req))
                return jsonError(res, 401, "Invalid credentials in Authorization header");
            std::vector<std::string> entries = {"{\"type\":\"directory\",\"oid\":\"" + std::string(40, 'd') +
                                                "\",\"size\":0,\"path\":\"extra\"}"};
            for (const File& f : files_) {
                if (f.repo != repo)
                    continue;
                std::string e = "{\"type\":\"file\",\"oid\":\"" + std::string(40, 'a') + "\",\"size\":" +
                                std::to_string(f.lfs ? 134 : f.bytes.size()) + ",\"path\":\"" + f.path + "\"";
                if (f.lfs)
                    e += ",\"lfs\":{\"oid\":\"" + f.listedSha + "\",\"size\":" + std::to_string(f.bytes.size()) +
                         ",\"pointerSize\":134}";
                entries.push_back(e + "}");
            }
            const size_t from = req.has_param("cursor") ? std::stoul(req.get_param_value("cursor")) : 0;
            const size_t to = std::min(entries.size(), from + size_t(treePageSize));
            std::string json = "[";
            for (size_t i = from; i < to; ++i)
                json += (i > from ? "," : "") + entries[i];
            json += "]";
            if (to < entries.size())
                res.set_header("Link", "<" + endpoint() + "/api/models/" + repo + "/tree/" + req.matches[3].str() +
                                           "?recursive=true&cursor=" + std::to_string(to) + ">; rel=\"next\"");
            res.set_content(json, "application/json");
        });
        hub_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req,
                                                                     httplib::Response& res) {
            record("hub", req);
            const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
            const std::string path = req.matches[4].str();
            std::lock_guard lock(mutex_);
            const Model* m = model(repo);
            if (m && m->needsToken && !authorized(req))
                return jsonError(res, 401, "Invalid credentials in Authorization header");
            for (size_t i = 0; i < files_.size(); ++i) {
                if (files_[i].repo != repo || files_[i].path != path)
                    continue;
                if (files_[i].redirect == Redirect::Relative) {
                    res.status = 307;
                    res.set_header("Location", "/cdn/" + std::to_string(i));
                } else {
                    res.status = 302;
                    res.set_header("Location", storageOrigin() + "/lfs/" + std::to_string(i));
                }
                return;
            }
            jsonError(res, 404, "Entry not found");
        });
        hub_.Get(R"(/cdn/([0-9]+))", [this](const httplib::Request& req, httplib::Response& res) {
            record("hub", req);
            serveBytes(std::stoul(req.matches[1].str()), req, res);
        });
        storage_.Get(R"(/lfs/([0-9]+))", [this](const httplib::Request& req, httplib::Response& res) {
            record("storage", req);
            serveBytes(std::stoul(req.matches[1].str()), req, res);
        });
    }

    httplib::Server hub_;
    httplib::Server storage_;
    int hubPort_ = 0;
    int storagePort_ = 0;
    std::thread hubThread_;
    std::thread storageThread_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> active_{0};
    std::atomic<int> maxActive_{0};
    mutable std::mutex mutex_;
    std::vector<Model> models_;
    std::vector<File> files_;
    std::vector<Request> log_;
};

} // namespace tenfold::test
