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

/* ---- what every typed store does with a statement ---- */

/* Binds s as text (SQL NULL when s is NULL); s must outlive the statement's step. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Copies column i's text into out (outsz > 0), truncated, "" for NULL. */
void db_col_text(sqlite3_stmt *st, int i, char *out, size_t outsz);
/* Column i's text as a new string ("" for NULL); the caller frees it. */
char *db_col_dup(sqlite3_stmt *st, int i);
/* Steps a statement that returns no row and resets it: 0, or -1 (logged as `what`). */
int db_step_done(struct db *db, sqlite3_stmt *st, const char *what);
/* Steps a single-row look-up and resets it: 1 (the row read by conv into out), 0 (none), or
   -1 (logged as `what`). */
int db_get_one(struct db *db, sqlite3_stmt *st, void (*conv)(sqlite3_stmt *, void *), void *out,
               const char *what);
/* Steps a statement returning one integer and resets it: the integer, or -1 (logged). */
int db_query_int(struct db *db, sqlite3_stmt *st, const char *what);

/*
 * The migrations, oldest first: db_migrations[i] takes the schema from version i to i + 1.
 * Each runs inside its own transaction; append only, never edit a released one.
 * The count is db_migrations_count() (db.h).
 */
extern const char *const db_migrations[];

#endif
