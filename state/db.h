/*
 * The state database: one SQLite connection owned by the loop thread, WAL for files,
 * numbered migrations applied at open, and the transaction around each API call. Only
 * state/ includes <sqlite3.h>; everyone else sees struct db as opaque.
 */
#ifndef FB_DB_H
#define FB_DB_H

#include "../emulator/common.h"

struct db;

/*
 * Opens (creating if needed) the database at path, or an in-memory one for ":memory:",
 * and applies every pending migration. NULL with a message in errbuf on failure.
 */
struct db *db_open(const char *path, char *errbuf, size_t errsz);
void db_close(struct db *db);

/* BEGIN IMMEDIATE (write) or BEGIN DEFERRED; -1 on failure (logged). */
int db_begin(struct db *db, bool write);
/* -1 on failure (logged); the transaction is then rolled back, so nothing of it is kept. */
int db_commit(struct db *db);
/* Rolls back the open transaction; harmless when none is open. */
void db_rollback(struct db *db);
/*
 * Deletes every row of every table (POST /_fogbank/reset) in one transaction, keeping the
 * schema and its version; AUTOINCREMENT counters restart. Call it outside a transaction
 * (foreign keys are switched off for it); -1 on failure (logged), nothing deleted.
 */
int db_reset(struct db *db);
/*
 * A count that grows with every row any statement of this connection inserts, updates or
 * deletes (committed or not): two equal readings mean nothing was written in between, so
 * whatever was derived from the state at the first is still good (rolled-back writes only
 * make a reading differ needlessly). For caches of rendered answers.
 */
uint64_t db_changes(struct db *db);
/* The schema version (PRAGMA user_version) after migrations. */
int db_schema_version(struct db *db);
/* The number of migrations compiled in (the version a fresh database reaches). */
int db_migrations_count(void);

#endif
