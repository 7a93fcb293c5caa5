#include "store/sqlite_db.h"

#include <sqlite3.h>

namespace tenfold::sqlite {

namespace {

std::string describeCode(int code)
{
    // Only where SQLite's own text leaves the user guessing what to do.
    switch (code & 0xff) {
    case SQLITE_CANTOPEN: return "check that the folder exists and is writable";
    case SQLITE_PERM: return "permission denied";
    case SQLITE_BUSY: return "another process (another Tenfold?) is using the database";
    default: return {};
    }
}

} // namespace

Database::Database(const std::filesystem::path& file) : file_(file)
{
    int rc = sqlite3_open_v2(file.string().c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        std::string hint = describeCode(rc);
        throw IoError(file_.string() + ": cannot open database: " + message +
                      (hint.empty() ? "" : " (" + hint + ")"));
    }
    sqlite3_extended_result_codes(db_, 1);
}

Database::~Database()
{
    if (db_)
        sqlite3_close_v2(db_);
}

void Database::exec(const std::string& sql, const char* what)
{
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string message = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        std::string hint = describeCode(rc);
        throw IoError(file_.string() + ": " + what + ": " + message + (hint.empty() ? "" : " (" + hint + ")"));
    }
}

void Database::fail(const char* what, int code) const
{
    std::string message = sqlite3_errmsg(db_);
    std::string hint = describeCode(code);
    throw IoError(file_.string() + ": " + what + ": " + message + (hint.empty() ? "" : " (" + hint + ")"));
}

int64_t Database::lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Statement::Statement(Database& db, const char* sql) : db_(db)
{
    int rc = sqlite3_prepare_v2(db.handle(), sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK)
        db_.fail("preparing a statement", rc);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t value)
{
    if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK)
        db_.fail("binding a value", rc);
    return *this;
}

Statement& Statement::bind(int index, double value)
{
    if (int rc = sqlite3_bind_double(stmt_, index, value); rc != SQLITE_OK)
        db_.fail("binding a value", rc);
    return *this;
}

Statement& Statement::bind(int index, std::string_view text)
{
    if (int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        rc != SQLITE_OK)
        db_.fail("binding a value", rc);
    return *this;
}

Statement& Statement::bindBlob(int index, const void* data, size_t bytes)
{
    if (int rc = sqlite3_bind_blob64(stmt_, index, data, bytes, SQLITE_TRANSIENT); rc != SQLITE_OK)
        db_.fail("binding a value", rc);
    return *this;
}

std::string Statement::columnBlob(int column) const
{
    const void* data = sqlite3_column_blob(stmt_, column);
    if (!data)
        return {};
    return std::string(static_cast<const char*>(data), size_t(sqlite3_column_bytes(stmt_, column)));
}

Statement& Statement::bindNull(int index)
{
    if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK)
        db_.fail("binding a value", rc);
    return *this;
}

bool Statement::step()
{
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    sqlite3_reset(stmt_);
    db_.fail("executing a statement", rc);
}

void Statement::reset()
{
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int64_t Statement::columnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::columnDouble(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::columnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Statement::columnText(int column) const
{
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    if (!text)
        return {};
    return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

Transaction::Transaction(Database& db) : db_(db)
{
    db_.exec("BEGIN IMMEDIATE", "starting a transaction");
    open_ = true;
}

Transaction::~Transaction()
{
    if (open_)
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit()
{
    db_.exec("COMMIT", "committing");
    open_ = false;
}

} // namespace tenfold::sqlite
