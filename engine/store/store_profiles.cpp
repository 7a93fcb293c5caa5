// Store: the Profiler's recorded profiles.
#include "store/store.h"

#include "store/store_impl.h"

namespace tenfold {

namespace {

constexpr const char* kProfileColumns =
    "id, created_at, name, model, model_hash, quantization, device, kernel_level, threads, passes, "
    "decode_tokens_per_second, prefill_tokens_per_second, prefill_gflops, bandwidth_share, "
    "machine_gb_per_second, resident_bytes, kv_cache_bytes";

ProfileRecord readProfile(const sqlite::Statement& s)
{
    ProfileRecord p;
    p.id = s.columnInt(0);
    p.createdAt = s.columnInt(1);
    p.name = s.columnText(2);
    p.model = s.columnText(3);
    p.modelHash = s.columnText(4);
    p.quantization = s.columnText(5);
    p.device = s.columnText(6);
    p.kernelLevel = s.columnText(7);
    p.threads = static_cast<int>(s.columnInt(8));
    p.passes = static_cast<int>(s.columnInt(9));
    p.decodeTokensPerSecond = s.columnDouble(10);
    p.prefillTokensPerSecond = s.columnDouble(11);
    p.prefillGflops = s.columnDouble(12);
    p.bandwidthShare = s.columnDouble(13);
    p.machineGbPerSecond = s.columnDouble(14);
    p.residentBytes = s.columnInt(15);
    p.kvCacheBytes = s.columnInt(16);
    return p;
}

} // namespace

int64_t Store::recordProfile(const ProfileRecord& p)
{
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Transaction tx(db);
    sqlite::Statement s(db, "INSERT INTO profiles(created_at, name, model, model_hash, quantization, device, "
                            "kernel_level, threads, passes, decode_tokens_per_second, prefill_tokens_per_second, "
                            "prefill_gflops, bandwidth_share, machine_gb_per_second, resident_bytes, kv_cache_bytes) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, p.createdAt ? p.createdAt : nowMs())
        .bind(2, p.name)
        .bind(3, p.model)
        .bind(4, p.modelHash)
        .bind(5, p.quantization)
        .bind(6, p.device)
        .bind(7, p.kernelLevel)
        .bind(8, p.threads)
        .bind(9, p.passes)
        .bind(10, p.decodeTokensPerSecond)
        .bind(11, p.prefillTokensPerSecond)
        .bind(12, p.prefillGflops)
        .bind(13, p.bandwidthShare)
        .bind(14, p.machineGbPerSecond)
        .bind(15, p.residentBytes)
        .bind(16, p.kvCacheBytes);
    s.run();
    const int64_t id = db.lastInsertId();
    sqlite::Statement op(db, "INSERT INTO profile_ops(profile_id, op, layer, microseconds, calls) VALUES (?, ?, ?, ?, ?)");
    for (const ProfileOp& o : p.ops) {
        op.reset();
        op.bind(1, id).bind(2, o.op).bind(3, o.layer).bind(4, o.microseconds).bind(5, o.calls);
        op.run();
    }
    tx.commit();
    return id;
}

std::vector<ProfileRecord> Store::profiles() const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db,
                        (std::string("SELECT ") + kProfileColumns + " FROM profiles ORDER BY created_at DESC, id DESC").c_str());
    return readAllRows(s, readProfile);
}

std::optional<ProfileRecord> Store::profile(int64_t id) const
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Statement s(*impl_->db, (std::string("SELECT ") + kProfileColumns + " FROM profiles WHERE id = ?").c_str());
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    ProfileRecord p = readProfile(s);
    sqlite::Statement ops(*impl_->db,
                          "SELECT op, layer, microseconds, calls FROM profile_ops WHERE profile_id = ? ORDER BY layer, op");
    ops.bind(1, id);
    while (ops.step())
        p.ops.push_back({ops.columnText(0), static_cast<int>(ops.columnInt(1)), ops.columnDouble(2), ops.columnInt(3)});
    return p;
}

void Store::deleteProfile(int64_t id)
{
    std::lock_guard lock(impl_->mutex);
    sqlite::Transaction tx(*impl_->db);
    sqlite::Statement ops(*impl_->db, "DELETE FROM profile_ops WHERE profile_id = ?");
    ops.bind(1, id).run();
    sqlite::Statement s(*impl_->db, "DELETE FROM profiles WHERE id = ?");
    s.bind(1, id).run();
    requireRowChanged(*impl_->db, "deleteProfile", "profile " + std::to_string(id));
    tx.commit();
}

} // namespace tenfold
