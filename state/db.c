/*
 * The state database: opening the one SQLite connection (pragmas, migrations), the
 * transaction verbs the router wraps around each API call, reset, and the cache of prepared
 * statements the typed stores of state/ use. It holds no resource tables or queries of its
 * own beyond those; SQL for a service belongs in that service's store file.
 */
#include "../emulator/common.h"

#include "db.h"
#include "db_internal.h"

#include "../emulator/log.h"

#include <assert.h>

/* How long a write waits for another process holding the file (e.g. `sqlite3` in a shell). */
#define DB_BUSY_TIMEOUT_MS 5000

/* One cached statement; a slot is free when sql is NULL. */
struct db_stmt_slot {
    const char *sql;    /* the caller's static SQL text; its address is the key */
    sqlite3_stmt *stmt; /* prepared once, finalized by db_close() */
};

struct db {
    sqlite3 *conn;              /* the one connection, used only from the loop thread */
    struct db_stmt_slot *slots; /* open-addressing hash table keyed by SQL address */
    size_t nslots;              /* capacity, a power of two (0 before the first prepare) */
    size_t nused;               /* occupied slots; kept under 3/4 of nslots */
};

static const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
static const char SQL_BEGIN_DEFERRED[] = "BEGIN DEFERRED";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_USER_VERSION[] = "PRAGMA user_version";

sqlite3 *
db_sqlite(struct db *db)
{
    return db->conn;
}

int
db_error(struct db *db, const char *what)
{
    log_error("db: %s: %s", what, sqlite3_errmsg(db->conn));
    return -1;
}

static size_t
slot_hash(const char *sql, size_t mask)
{
    /* Fibonacci hashing of the address; the low bits of a pointer are mostly alignment. */
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & mask;
}

static struct db_stmt_slot *
slot_find(struct db_stmt_slot *slots, size_t nslots, const char *sql)
{
    size_t mask = nslots - 1;
    size_t i = slot_hash(sql, mask);

    while (slots[i].sql && slots[i].sql != sql)
        i = (i + 1) & mask;
    return &slots[i];
}

static void
cache_grow(struct db *db)
{
    size_t nslots = db->nslots ? db->nslots * 2 : 64;
    struct db_stmt_slot *slots = xcalloc(nslots, sizeof(*slots));

    for (size_t i = 0; i < db->nslots; i++) {
        if (db->slots[i].sql)
            *slot_find(slots, nslots, db->slots[i].sql) = db->slots[i];
    }
    free(db->slots);
    db->slots = slots;
    db->nslots = nslots;
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql)
{
    struct db_stmt_slot *slot;
    sqlite3_stmt *stmt = NULL;

    if (db->nslots) {
        slot = slot_find(db->slots, db->nslots, sql);
        if (slot->sql) {
            /* Same address, different text: the caller passed a buffer that was reused. */
            assert(strcmp(sqlite3_sql(slot->stmt), sql) == 0);
            sqlite3_reset(slot->stmt);
            sqlite3_clear_bindings(slot->stmt);
            return slot->stmt;
        }
    }
    if (sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
        SQLITE_OK) {
        log_error("db: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(db->conn));
        sqlite3_finalize(stmt);
        return NULL;
    }
    if ((db->nused + 1) * 4 > db->nslots * 3)
        cache_grow(db);
    slot = slot_find(db->slots, db->nslots, sql);
    slot->sql = sql;
    slot->stmt = stmt;
    db->nused++;
    return stmt;
}

/* Runs a cached statement that returns no rows. */
static int
run(struct db *db, const char *sql)
{
    sqlite3_stmt *stmt = db_stmt(db, sql);
    int rc;

    if (!stmt)
        return -1;
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return db_error(db, sql);
    return 0;
}

/*
 * Resets every statement still running, so that the end of a transaction never fails or
 * lingers because a caller stepped a SELECT without resetting it (an unreset read would keep
 * its snapshot open in WAL mode and hold back checkpoints).
 */
static void
reset_running(struct db *db)
{
    sqlite3_stmt *stmt = NULL;

    while ((stmt = sqlite3_next_stmt(db->conn, stmt)) != NULL) {
        if (sqlite3_stmt_busy(stmt))
            sqlite3_reset(stmt);
    }
}

int
db_begin(struct db *db, bool write)
{
    return run(db, write ? SQL_BEGIN_IMMEDIATE : SQL_BEGIN_DEFERRED);
}

int
db_commit(struct db *db)
{
    reset_running(db);
    if (run(db, SQL_COMMIT) < 0) {
        /* COMMIT can fail and leave the transaction open (SQLITE_BUSY): end it, so that -1
           always means nothing of it was kept and the next BEGIN works. */
        db_rollback(db);
        return -1;
    }
    return 0;
}

void
db_rollback(struct db *db)
{
    reset_running(db);
    if (sqlite3_get_autocommit(db->conn))
        return;
    run(db, SQL_ROLLBACK);
}

/* Runs sql (one or more statements, no rows wanted) without caching it. */
static int
exec(struct db *db, const char *sql, const char *what)
{
    char *msg = NULL;

    if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("db: %s: %s", what, msg ? msg : sqlite3_errmsg(db->conn));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

void
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void
db_col_text(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
    /* memcpy, not snprintf: this runs for every column of every row a walk reads. */
    const unsigned char *s = sqlite3_column_text(st, i);
    size_t n = s ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (n >= outsz)
        n = outsz - 1;
    if (n)
        memcpy(out, s, n);
    out[n] = '\0';
}

char *
db_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return xstrdup(s ? (const char *)s : "");
}

int
db_step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, what);
}

int
db_get_one(struct db *db, sqlite3_stmt *st, void (*conv)(sqlite3_stmt *, void *), void *out,
           const char *what)
{
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_ROW ? 1 : 0;
    if (rc == SQLITE_ROW)
        conv(st, out);
    else if (rc != SQLITE_DONE)
        ret = db_error(db, what); /* before the reset, while the message is sqlite's own */
    sqlite3_reset(st);
    return ret;
}

int
db_query_int(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? v : db_error(db, what);
}

uint64_t
db_changes(struct db *db)
{
    return (uint64_t)sqlite3_total_changes64(db->conn);
}

int
db_schema_version(struct db *db)
{
    sqlite3_stmt *stmt = db_stmt(db, SQL_USER_VERSION);
    int version = -1;

    if (!stmt)
        return -1;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    else
        db_error(db, SQL_USER_VERSION);
    sqlite3_reset(stmt);
    return version;
}

/* Applies the migrations after `from`, each with its version bump in one transaction. */
static int
migrate(struct db *db, int from, char *errbuf, size_t errsz)
{
    char pragma[64];

    for (int v = from + 1; v <= db_migrations_count(); v++) {
        /* PRAGMA takes no bound parameters; v is an int we own, not input. */
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v);
        if (exec(db, "BEGIN IMMEDIATE", "migration begin") < 0 ||
            exec(db, db_migrations[v - 1], "migration") < 0 ||
            exec(db, pragma, "migration version") < 0 ||
            exec(db, "COMMIT", "migration commit") < 0) {
            snprintf(errbuf, errsz, "migration %d failed: %s", v, sqlite3_errmsg(db->conn));
            if (!sqlite3_get_autocommit(db->conn))
                exec(db, "ROLLBACK", "migration rollback");
            return -1;
        }
    }
    return 0;
}

/* The pragmas of a file database: WAL so readers never block the writer, and a bound wait. */
static int
configure_file(struct db *db, char *errbuf, size_t errsz)
{
    sqlite3_stmt *stmt = NULL;
    bool wal = false;

    sqlite3_busy_timeout(db->conn, DB_BUSY_TIMEOUT_MS);
    /* journal_mode answers the mode it ended up in; some filesystems cannot do WAL. */
    if (sqlite3_prepare_v2(db->conn, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(stmt, 0);
        wal = mode && str_ieq(mode, "wal");
    }
    sqlite3_finalize(stmt);
    if (!wal) {
        snprintf(errbuf, errsz, "cannot switch to WAL mode: %s", sqlite3_errmsg(db->conn));
        return -1;
    }
    if (exec(db, "PRAGMA synchronous = NORMAL", "synchronous") < 0) {
        snprintf(errbuf, errsz, "cannot set synchronous: %s", sqlite3_errmsg(db->conn));
        return -1;
    }
    return 0;
}

struct db *
db_open(const char *path, char *errbuf, size_t errsz)
{
    struct db *db = xcalloc(1, sizeof(*db));
    const char *file;
    char msg[256];
    int version;

    if (sqlite3_open_v2(path, &db->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(msg, sizeof(msg), "%s", db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(db->conn, 1);

    /* An in-memory or temporary database has no file name; only files get WAL. */
    file = sqlite3_db_filename(db->conn, "main");
    if (file && *file && configure_file(db, msg, sizeof(msg)) < 0)
        goto fail;
    if (exec(db, "PRAGMA foreign_keys = ON", "foreign_keys") < 0) {
        snprintf(msg, sizeof(msg), "cannot enable foreign keys: %s", sqlite3_errmsg(db->conn));
        goto fail;
    }

    version = db_schema_version(db);
    if (version < 0) {
        snprintf(msg, sizeof(msg), "cannot read the schema version: %s", sqlite3_errmsg(db->conn));
        goto fail;
    }
    if (version > db_migrations_count()) {
        snprintf(msg, sizeof(msg),
                 "schema version %d is newer than this fogbank knows (%d); use a newer fogbank "
                 "or another state file",
                 version, db_migrations_count());
        goto fail;
    }
    if (migrate(db, version, msg, sizeof(msg)) < 0)
        goto fail;
    return db;

fail:
    snprintf(errbuf, errsz, "%s: %s", path, msg);
    db_close(db);
    return NULL;
}

void
db_close(struct db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->nslots; i++)
        sqlite3_finalize(db->slots[i].stmt);
    free(db->slots);
    if (db->conn && sqlite3_close(db->conn) != SQLITE_OK)
        log_error("db: close: %s", sqlite3_errmsg(db->conn));
    free(db);
}

/* The tables to empty: user tables and virtual tables, not sqlite_% nor virtual-table shadows. */
static const char SQL_RESET_TABLES[] = "SELECT name FROM pragma_table_list "
                                       "WHERE schema = 'main' AND type IN ('table', 'virtual') "
                                       "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
static const char SQL_HAS_SEQUENCE[] =
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'";

/* Fills *names (a NULL-terminated array the caller frees with free_names) from SQL_RESET_TABLES. */
static int
reset_table_names(struct db *db, char ***names)
{
    sqlite3_stmt *stmt = db_stmt(db, SQL_RESET_TABLES);
    size_t n = 0;
    int rc;

    *names = xcalloc(1, sizeof(**names));
    if (!stmt)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        *names = xrealloc(*names, (n + 2) * sizeof(**names));
        (*names)[n++] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
        (*names)[n] = NULL;
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : db_error(db, "listing tables");
}

static void
free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* Deletes the rows of every table in names, and the AUTOINCREMENT counters. */
static int
reset_rows(struct db *db, char **names)
{
    sqlite3_stmt *stmt = db_stmt(db, SQL_HAS_SEQUENCE);
    bool has_sequence;

    for (size_t i = 0; names[i]; i++) {
        /* A table name cannot be a bound parameter; %w quotes it as an identifier. */
        char *sql = sqlite3_mprintf("DELETE FROM main.\"%w\"", names[i]);
        int rc = sql ? exec(db, sql, names[i]) : -1;

        sqlite3_free(sql);
        if (rc < 0)
            return -1;
    }
    if (!stmt)
        return -1;
    has_sequence = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_reset(stmt);
    /* sqlite_sequence is SQLite's, but emptying it is allowed and makes ids restart as in a
       fresh database, which reproducible runs (--seed) after a reset rely on. */
    if (has_sequence && exec(db, "DELETE FROM sqlite_sequence", "sqlite_sequence") < 0)
        return -1;
    return 0;
}

int
db_reset(struct db *db)
{
    char **names = NULL;
    int rc;

    /* PRAGMA foreign_keys is a no-op inside a transaction, and deferring is not enough:
       ON DELETE RESTRICT is checked immediately whatever the order of the deletes. */
    if (!sqlite3_get_autocommit(db->conn)) {
        log_error("db: reset called inside a transaction");
        return -1;
    }
    if (exec(db, "PRAGMA foreign_keys = OFF", "reset foreign_keys off") < 0)
        return -1;
    rc = db_begin(db, true);
    if (rc == 0)
        rc = reset_table_names(db, &names);
    if (rc == 0)
        rc = reset_rows(db, names);
    if (rc == 0)
        rc = db_commit(db);
    else
        db_rollback(db);
    free_names(names);
    if (exec(db, "PRAGMA foreign_keys = ON", "reset foreign_keys on") < 0)
        die("db: cannot re-enable foreign keys after reset");
    return rc;
}
