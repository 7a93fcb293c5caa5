// Store: the model hub's download queue (schema v7).
#include "store/store.h"

#include "store/store_impl.h"

namespace tenfold {

namespace {

constexpr const char* kDownloadColumns =
    "id, repo, revision, file_path, destination, sha256, size, bytes_done, state, error, set_key, created_at, "
    "updated_at";

HubDownload readDownload(const sqlite::Statement& s)
{
    HubDownload d;
    d.id = s.columnInt(0);
    d.repo = s.columnText(1);
    d.revision = s.columnText(2);
    d.filePath = s.columnText(3);
    d.destination = s.columnText(4);
    d.sha256 = s.columnText(5);
    d.size = s.columnInt(6);
    d.bytesDone = s.columnInt(7);
    d.state = s.columnText(8);
    d.error = s.columnText(9);
    d.setKey = s.columnText(10);
    d.createdAt = s.columnInt(11);
    d.updatedAt = s.columnInt(12);
    return d;
}

void checkState(const std::string& state)
{
    if (state != "queued" && state != "running" && state != "paused" && state != "done" && state != "failed")
        throw InvalidArgument("hub download state '" + state + "' is not queued, running, paused, done or failed");
}

} // namespace

int64_t Store::addHubDownload(const HubDownload& d)
{
    if (d.repo.empty() || d.filePath.empty() || d.destination.empty())
        throw InvalidArgument("addHubDownload: the repository, file path and destination must not be empty");
    checkState(d.state);
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Transaction tx(db);
    const int64_t now = nowMs();
    sqlite::Statement s(db,
                        "INSERT INTO hub_downloads(repo, revision, file_path, destination, sha256, size, bytes_done, "
                        "state, error, set_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?) "
                        "ON CONFLICT(destination) DO UPDATE SET repo = excluded.repo, revision = excluded.revision, "
                        "file_path = excluded.file_path, sha256 = excluded.sha256, size = excluded.size, "
                        "set_key = excluded.set_key, error = '', updated_at = excluded.updated_at, "
                        "state = CASE WHEN hub_downloads.state = 'done' THEN 'done' ELSE excluded.state END");
    s.bind(1, d.repo)
        .bind(2, d.revision.empty() ? std::string("main") : d.revision)
        .bind(3, d.filePath)
        .bind(4, d.destination)
        .bind(5, d.sha256)
        .bind(6, d.size)
        .bind(7, d.bytesDone)
        .bind(8, d.state)
        .bind(9, d.setKey)
        .bind(10, d.createdAt ? d.createdAt : now)
        .bind(11, now);
    s.run();
    sqlite::Statement id(db, "SELECT id FROM hub_downloads WHERE destination = ?");
    id.bind(1, d.destination);
    id.step();
    const int64_t result = id.columnInt(0);
    tx.commit();
    return result;
}

std::vector<HubDownload> Store::hubDownloads() const
{
    std::lock_guard lock(impl_->mutex);
    const std::string sql = std::string("SELECT ") + kDownloadColumns + " FROM hub_downloads ORDER BY id";
    sqlite::Statement s(*impl_->db, sql.c_str());
    return readAllRows(s, readDownload);
}

std::optional<HubDownload> Store::hubDownload(int64_t id) const
{
    std::lock_guard lock(impl_->mutex);
    const std::string sql = std::string("SELECT ") + kDownloadColumns + " FROM hub_downloads WHERE id = ?";
    sqlite::Statement s(*impl_->db, sql.c_str());
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readDownload(s);
}

std::optional<HubDownload> Store::takeQueuedHubDownload()
{
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Transaction tx(db);
    const std::string sql = std::string("SELECT ") + kDownloadColumns +
                            " FROM hub_downloads WHERE state = 'queued' ORDER BY id LIMIT 1";
    sqlite::Statement s(db, sql.c_str());
    if (!s.step())
        return std::nullopt;
    HubDownload d = readDownload(s);
    sqlite::Statement mark(db, "UPDATE hub_downloads SET state = 'running', error = '', updated_at = ? WHERE id = ?");
    mark.bind(1, nowMs()).bind(2, d.id).run();
    tx.commit();
    d.state = "running";
    d.error.clear();
    return d;
}

void Store::setHubDownloadState(int64_t id, const std::string& state, const std::string& error)
{
    checkState(state);
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Statement s(db, "UPDATE hub_downloads SET state = ?, error = ?, updated_at = ? WHERE id = ?");
    s.bind(1, state).bind(2, error).bind(3, nowMs()).bind(4, id).run();
    requireRowChanged(db, "setHubDownloadState", "hub download " + std::to_string(id));
}

void Store::setHubDownloadProgress(int64_t id, int64_t bytesDone)
{
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Statement s(db, "UPDATE hub_downloads SET bytes_done = ?, updated_at = ? WHERE id = ?");
    s.bind(1, bytesDone).bind(2, nowMs()).bind(3, id).run();
    requireRowChanged(db, "setHubDownloadProgress", "hub download " + std::to_string(id));
}

void Store::removeHubDownload(int64_t id)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db, "DELETE FROM hub_downloads WHERE id = ?");
    s.bind(1, id).run();
}

int Store::requeueInterruptedHubDownloads()
{
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Statement s(db, "UPDATE hub_downloads SET state = 'queued', updated_at = ? WHERE state = 'running'");
    s.bind(1, nowMs()).run();
    return db.changes();
}

} // namespace tenfold
