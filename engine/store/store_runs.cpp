// Store: the optimization studio's runs (schema v6).
#include "store/store.h"

#include "store/store_impl.h"

namespace tenfold {

namespace {

constexpr const char* kRunColumns =
    "id, created_at, input_model_hash, input_path, method, parameters, output_path, output_hash, "
    "output_bytes, report, seconds, status";

OptimizationRun readRun(const sqlite::Statement& s)
{
    OptimizationRun r;
    r.id = s.columnInt(0);
    r.createdAt = s.columnInt(1);
    r.inputModelHash = s.columnText(2);
    r.inputPath = s.columnText(3);
    r.method = s.columnText(4);
    r.parametersJson = s.columnText(5);
    r.outputPath = s.columnText(6);
    r.outputHash = s.columnText(7);
    r.outputBytes = s.columnInt(8);
    r.reportJson = s.columnText(9);
    r.seconds = s.columnDouble(10);
    r.status = s.columnText(11);
    return r;
}

} // namespace

int64_t Store::recordOptimizationRun(const OptimizationRun& r)
{
    if (r.method.empty())
        throw InvalidArgument("recordOptimizationRun: the method is empty");
    std::lock_guard lock(impl_->mutex);
    auto& db = *impl_->db;
    sqlite::Transaction tx(db);
    sqlite::Statement s(db, "INSERT INTO optimization_runs(created_at, input_model_hash, input_path, method, "
                            "parameters, output_path, output_hash, output_bytes, report, seconds, status) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, r.createdAt ? r.createdAt : nowMs())
        .bind(2, r.inputModelHash)
        .bind(3, r.inputPath)
        .bind(4, r.method)
        .bind(5, r.parametersJson.empty() ? std::string("{}") : r.parametersJson)
        .bind(6, r.outputPath)
        .bind(7, r.outputHash)
        .bind(8, r.outputBytes)
        .bind(9, r.reportJson.empty() ? std::string("{}") : r.reportJson)
        .bind(10, r.seconds)
        .bind(11, r.status);
    s.run();
    const int64_t id = db.lastInsertId();
    tx.commit();
    return id;
}

std::vector<OptimizationRun> Store::optimizationRuns(const std::string& inputModelHash) const
{
    std::lock_guard lock(impl_->mutex);
    // One statement for both: an empty hash matches every row.
    const std::string sql = std::string("SELECT ") + kRunColumns +
                            " FROM optimization_runs WHERE ?1 = '' OR input_model_hash = ?1 "
                            "ORDER BY created_at DESC, id DESC";
    sqlite::Statement s(*impl_->db, sql.c_str());
    s.bind(1, inputModelHash);
    return readAllRows(s, readRun);
}

} // namespace tenfold
