#pragma once
// The database schema as an ordered list of migrations. Migration N takes a database at version
// N-1 to version N; a shipped migration is never edited, only followed by a new one.
#include "store/sqlite_db.h"

namespace tenfold::store_schema {

// The version the code writes; Store::kSchemaVersion mirrors it.
int latestVersion();
// The version recorded in the file (0 for a new, empty database).
int currentVersion(sqlite::Database& db);
// Applies every pending migration, each in its own transaction. Throws IoError when the file is
// newer than this build (it would not understand it) or a migration fails.
void migrate(sqlite::Database& db);
// Applies the pending migrations up to targetVersion only (1..latestVersion()). For tests that
// need a database exactly as an earlier version wrote it. Throws InvalidArgument out of range.
void migrate(sqlite::Database& db, int targetVersion);
// Creates the FTS5 index over message text (and its sync triggers) when SQLite has FTS5; returns
// whether full-text search is available. Idempotent; kept out of the numbered migrations because
// it depends on the SQLite build, not on the data.
bool ensureFullTextIndex(sqlite::Database& db);

} // namespace tenfold::store_schema
