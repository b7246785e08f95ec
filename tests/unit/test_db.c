/*
 * Unit tests of state/db.c: migrations at open, WAL for files, the transaction verbs, reset
 * and the statement cache. File databases live in a mkdtemp directory removed afterwards.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "state/db.h"
#include "state/db_internal.h"

/* A temporary directory and a database file inside it. */
struct tmp {
    char dir[64];   /* mkdtemp result */
    char path[128]; /* dir + "/state.db" */
};

static int
tmp_setup(void **state)
{
    struct tmp *t = xcalloc(1, sizeof(*t));
    const char *base = getenv("TMPDIR");

    snprintf(t->dir, sizeof(t->dir), "%s/fogbank-test-db-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof(t->path), "%s/state.db", t->dir);
    *state = t;
    return 0;
}

static int
tmp_teardown(void **state)
{
    struct tmp *t = *state;
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char file[160];

    for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
        snprintf(file, sizeof(file), "%s%s", t->path, suffixes[i]);
        unlink(file);
    }
    rmdir(t->dir);
    free(t);
    return 0;
}

static struct db *
open_ok(const char *path)
{
    char err[512] = "";
    struct db *db = db_open(path, err, sizeof(err));

    if (!db)
        fail_msg("db_open(%s): %s", path, err);
    return db;
}

static void
exec_ok(struct db *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db_sqlite(db), sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* The single integer a query returns. */
static int64_t
query_int(struct db *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

static void
test_memory_database_reaches_migrations_count(void **state)
{
    (void)state;
    struct db *db = open_ok(":memory:");

    assert_true(db_migrations_count() >= 1);
    assert_int_equal(db_schema_version(db), db_migrations_count());
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM meta"), 1);
    db_close(db);
}

static void
test_file_database_reopens_without_reapplying(void **state)
{
    struct tmp *t = *state;
    struct db *db = open_ok(t->path);

    assert_int_equal(db_schema_version(db), db_migrations_count());
    exec_ok(db, "CREATE TABLE kept (x INTEGER); INSERT INTO kept VALUES (7)");
    db_close(db);

    /* Re-applying migration 1 would fail (meta exists) or duplicate its row. */
    db = open_ok(t->path);
    assert_int_equal(db_schema_version(db), db_migrations_count());
    assert_int_equal(query_int(db, "SELECT count(*) FROM meta"), 1);
    assert_int_equal(query_int(db, "SELECT x FROM kept"), 7);
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    db_close(db);
}

static void
test_file_database_uses_wal(void **state)
{
    struct tmp *t = *state;
    struct db *db = open_ok(t->path);
    sqlite3_stmt *stmt = NULL;
    char wal[160];
    struct stat st;

    assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), "PRAGMA journal_mode", -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    /* synchronous NORMAL is 1. */
    assert_int_equal(query_int(db, "PRAGMA synchronous"), 1);
    snprintf(wal, sizeof(wal), "%s-wal", t->path);
    assert_int_equal(stat(wal, &st), 0);
    db_close(db);
}

static void
test_commit_keeps_and_rollback_discards(void **state)
{
    (void)state;
    struct db *db = open_ok(":memory:");

    exec_ok(db, "CREATE TABLE t (x INTEGER)");
    assert_int_equal(db_begin(db, true), 0);
    exec_ok(db, "INSERT INTO t VALUES (1)");
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 1);

    assert_int_equal(db_begin(db, true), 0);
    exec_ok(db, "INSERT INTO t VALUES (2)");
    db_rollback(db);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 1);

    assert_int_equal(db_begin(db, false), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 1);
    assert_int_equal(db_commit(db), 0);
    db_close(db);
}

static void
test_rollback_without_transaction_is_harmless(void **state)
{
    (void)state;
    struct db *db = open_ok(":memory:");

    db_rollback(db);
    db_rollback(db);
    assert_int_equal(db_begin(db, true), 0);
    db_rollback(db);
    db_rollback(db);
    assert_int_equal(db_begin(db, false), 0);
    assert_int_equal(db_commit(db), 0);
    db_close(db);
}

static void
test_commit_without_transaction_fails(void **state)
{
    (void)state;
    struct db *db = open_ok(":memory:");

    assert_int_equal(db_commit(db), -1);
    assert_int_equal(db_begin(db, true), 0);
    assert_int_equal(db_begin(db, true), -1); /* no nesting */
    db_rollback(db);
    db_close(db);
}

static void
test_commit_ends_a_select_left_running(void **state)
{
    (void)state;
    static const char sql[] = "SELECT x FROM t";
    struct db *db = open_ok(":memory:");
    sqlite3_stmt *stmt;

    exec_ok(db, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2)");
    assert_int_equal(db_begin(db, true), 0);
    stmt = db_stmt(db, sql);
    assert_non_null(stmt);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW); /* never reset by the caller */
    assert_int_equal(db_commit(db), 0);
    assert_false(sqlite3_stmt_busy(stmt));
    db_close(db);
}

static void
test_reset_empties_tables_and_keeps_version(void **state)
{
    (void)state;
    struct db *db = open_ok(":memory:");

    /* RESTRICT is checked even when foreign keys are deferred, so delete order matters
       unless reset turns the checks off. */
    exec_ok(db, "CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT);"
                "CREATE TABLE child (id INTEGER PRIMARY KEY,"
                "  parent INTEGER NOT NULL REFERENCES parent(id) ON DELETE RESTRICT);"
                "CREATE TABLE \"odd \"\"name\" (x);"
                "INSERT INTO parent DEFAULT VALUES; INSERT INTO parent DEFAULT VALUES;"
                "INSERT INTO child VALUES (1, 1), (2, 2);"
                "INSERT INTO \"odd \"\"name\" VALUES (1);"
                "CREATE VIEW v AS SELECT * FROM child");
    assert_int_equal(db_reset(db), 0);

    assert_int_equal(query_int(db, "SELECT count(*) FROM parent"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM child"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM \"odd \"\"name\""), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM meta"), 0);
    assert_int_equal(db_schema_version(db), db_migrations_count());
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_true(sqlite3_get_autocommit(db_sqlite(db)));

    /* AUTOINCREMENT starts over as in a fresh database. */
    exec_ok(db, "INSERT INTO parent DEFAULT VALUES");
    assert_int_equal(query_int(db, "SELECT id FROM parent"), 1);
    /* Foreign keys are enforced again. */
    assert_int_not_equal(
            sqlite3_exec(db_sqlite(db), "INSERT INTO child VALUES (9, 42)", NULL, NULL, NULL),
            SQLITE_OK);
    db_close(db);
}

static void
test_reset_inside_transaction_fails_and_changes_nothing(void **state)
{
    (void)state;
    struct db *db = open_ok(":memory:");

    exec_ok(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    assert_int_equal(db_begin(db, true), 0);
    assert_int_equal(db_reset(db), -1);
    db_rollback(db);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 1);
    db_close(db);
}

static void
test_newer_database_is_refused(void **state)
{
    struct tmp *t = *state;
    sqlite3 *raw = NULL;
    char pragma[64];
    char err[512] = "";
    struct db *db;

    assert_int_equal(sqlite3_open(t->path, &raw), SQLITE_OK);
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", db_migrations_count() + 1);
    assert_int_equal(sqlite3_exec(raw, pragma, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);

    db = db_open(t->path, err, sizeof(err));
    assert_null(db);
    assert_non_null(strstr(err, t->path));
    assert_non_null(strstr(err, "newer than this fogbank"));
}

static void
test_unopenable_path_fails_with_message(void **state)
{
    struct tmp *t = *state;
    char path[200];
    char err[512] = "";

    snprintf(path, sizeof(path), "%s/missing-dir/state.db", t->dir);
    assert_null(db_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
}

static void
test_stmt_cache_returns_same_statement_reset(void **state)
{
    (void)state;
    static const char sql[] = "SELECT ?1 + 1";
    static const char bad[] = "SELEKT nothing";
    struct db *db = open_ok(":memory:");
    sqlite3_stmt *a = db_stmt(db, sql);
    sqlite3_stmt *b;

    assert_non_null(a);
    sqlite3_bind_int(a, 1, 41);
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(a, 0), 42);
    b = db_stmt(db, sql);
    assert_ptr_equal(a, b);
    assert_false(sqlite3_stmt_busy(b));
    assert_int_equal(sqlite3_step(b), SQLITE_ROW); /* bindings cleared: NULL + 1 */
    assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
    assert_null(db_stmt(db, bad));
    db_close(db);
}

static void
test_stmt_cache_grows(void **state)
{
    (void)state;
    enum { N = 200 };
    static char sql[N][32];
    sqlite3_stmt *stmts[N];
    struct db *db = open_ok(":memory:");

    for (int i = 0; i < N; i++) {
        snprintf(sql[i], sizeof(sql[i]), "SELECT %d", i);
        stmts[i] = db_stmt(db, sql[i]);
        assert_non_null(stmts[i]);
    }
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(db_stmt(db, sql[i]), stmts[i]);
        assert_int_equal(sqlite3_step(stmts[i]), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(stmts[i], 0), i);
    }
    db_close(db);
}

static void
test_close_accepts_null(void **state)
{
    (void)state;
    db_close(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_database_reaches_migrations_count),
        cmocka_unit_test_setup_teardown(test_file_database_reopens_without_reapplying, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_file_database_uses_wal, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_commit_keeps_and_rollback_discards),
        cmocka_unit_test(test_rollback_without_transaction_is_harmless),
        cmocka_unit_test(test_commit_without_transaction_fails),
        cmocka_unit_test(test_commit_ends_a_select_left_running),
        cmocka_unit_test(test_reset_empties_tables_and_keeps_version),
        cmocka_unit_test(test_reset_inside_transaction_fails_and_changes_nothing),
        cmocka_unit_test_setup_teardown(test_newer_database_is_refused, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_unopenable_path_fails_with_message, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test(test_stmt_cache_returns_same_statement_reset),
        cmocka_unit_test(test_stmt_cache_grows),
        cmocka_unit_test(test_close_accepts_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
