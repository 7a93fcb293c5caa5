#pragma once
// A thin RAII layer over SQLite's C API: a connection, prepared statements and transactions, with
// every failure turned into an IoError that names the database file, the operation and SQLite's
// own message.
#include "core/error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace tenfold::sqlite {

class Database {
public:
    // Opens or creates the file. Throws IoError if it cannot.
    explicit Database(const std::filesystem::path& file);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs one or more statements that return no rows we need.
    void exec(const std::string& sql, const char* what);
    // Throws IoError "<file>: <what>: <sqlite message>" for the connection's last error.
    [[noreturn]] void fail(const char* what, int code) const;

    int64_t lastInsertId() const;
    int changes() const;
    sqlite3* handle() const { return db_; }
    const std::filesystem::path& file() const { return file_; }

private:
    sqlite3* db_ = nullptr;
    std::filesystem::path file_;
};

class Statement {
public:
    Statement(Database& db, const char* sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Binding is 1-based like SQLite; returns *this to chain.
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bindNull(int index);
    Statement& bindBlob(int index, const void* data, size_t bytes);

    // Advances; true while a row is available.
    bool step();
    // Runs a statement that returns no rows.
    void run() { while (step()) {} }
    void reset();

    int64_t columnInt(int column) const;
    double columnDouble(int column) const;
    std::string columnText(int column) const;
    bool columnIsNull(int column) const;
    std::string columnBlob(int column) const; // the bytes as stored (empty for NULL)

private:
    Database& db_;
    sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back if destroyed without commit() (an exception unwound it).
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    void commit();

private:
    Database& db_;
    bool open_ = false;
};

} // namespace tenfold::sqlite
