/*
 * What the files of state/ share about the database and nobody else sees: the SQLite
 * connection, the cache of prepared statements and the migration list. Only state/ (and the
 * state unit tests) include this header; it must not be included from emulator/ or services/.
 */
#ifndef FB_DB_INTERNAL_H
#define FB_DB_INTERNAL_H

#include "db.h"

#include <sqlite3.h>

/*
 * The connection behind db. Borrowed: valid until db_close(). For the typed store functions
 * of state/ and for tests; never build SQL text with printf for it (STYLE.md rule 5).
 */
sqlite3 *db_sqlite(struct db *db);

/*
 * The prepared statement for sql, prepared on first use and cached for the life of db.
 * The cache is keyed by the address of sql, so sql must be a string with static storage
 * (a literal or a static const array), always the same address for the same text. The
 * statement comes back reset with its bindings cleared; bind every parameter, step it, and
 * reset it when done (db_commit/db_rollback also reset any left running). It stays owned by
 * db: never finalize it. NULL (logged) when sql does not prepare.
 */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/* Logs "db: <what>: <sqlite's last error message>" and returns -1. */
int db_error(struct db *db, const char *what);

/*
 * The migrations, oldest first: db_migrations[i] takes the schema from version i to i + 1.
 * Each runs inside its own transaction; append only, never edit a released one.
 * The count is db_migrations_count() (db.h).
 */
extern const char *const db_migrations[];

#endif
