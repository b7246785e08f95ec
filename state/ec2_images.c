/*
 * The EC2 images store: the SQL for AMIs, launch templates and launch template versions,
 * as prepared statements cached by db_stmt(). It holds no AWS rules; the handlers in
 * services/ec2/images.c and templates.c decide what the rows mean.
 */
#include "../emulator/common.h"

#include "ec2_images.h"
#include "db_internal.h"

/* ---- helpers ---- */

static int
bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* "" becomes NULL: the fixed-size fields use "" for "none". */
static int
bind_text_empty_null(sqlite3_stmt *st, int i, const char *s)
{
    return bind_text_or_null(st, i, s && *s ? s : NULL);
}

static char *
col_strdup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? xstrdup((const char *)s) : NULL;
}

/* ---- images ---- */

#define IMAGE_COLUMNS                                                                              \
    "id, region, name, description, location, owner_id, owner_alias, state, architecture, "        \
    "root_device_name, block_devices, ena_support, public, layer_dir, parent_id, depth, "          \
    "boot_script, source_instance_id, builtin, created_ms"

static const char SQL_IMAGE_PUT[] =
        "INSERT INTO ec2_images (" IMAGE_COLUMNS ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
        "?18, ?19, ?20)";
static const char SQL_IMAGE_GET[] =
        "SELECT " IMAGE_COLUMNS " FROM ec2_images WHERE id = ?1 AND region = ?2";
static const char SQL_IMAGE_FIND_NAME[] =
        "SELECT id FROM ec2_images WHERE region = ?1 AND owner_id = ?2 AND name = ?3 "
        "AND state != 'deregistered'";
static const char SQL_IMAGE_DEREGISTER[] =
        "UPDATE ec2_images SET state = 'deregistered', deregistered_ms = ?2 WHERE id = ?1";
static const char SQL_IMAGES_EACH[] = "SELECT " IMAGE_COLUMNS " FROM ec2_images WHERE region = ?1 "
                                      "AND state != 'deregistered' ORDER BY created_ms, id";

void
ec2_store_image_release(struct ec2_image_row *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->description);
    free(r->location);
    free(r->block_devices);
    free(r->layer_dir);
    free(r->boot_script);
    r->name = r->description = r->location = r->block_devices = r->layer_dir = NULL;
    r->boot_script = NULL;
}

/*
 * Steps st to its end, reading each row with `read` into a growing array of elem-sized
 * elements, returned with its count in *n (the caller frees it). The rows are all read
 * before any callback of the caller runs: a callback may call back into the store, and one
 * cached statement cannot be stepped by two loops at once. *ret is 0, or -1 logged as `what`
 * (the rows read so far are still returned).
 */
static void *
collect_rows(struct db *db, sqlite3_stmt *st, size_t elem, void (*read)(sqlite3_stmt *, void *),
             size_t *n, int *ret, const char *what)
{
    size_t alloc = 0;
    int rc;
    char *rows = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            rows = xrealloc(rows, alloc * elem);
        }
        read(st, rows + *n * elem);
        (*n)++;
    }
    sqlite3_reset(st);
    *ret = rc == SQLITE_DONE ? 0 : db_error(db, what);
    return rows;
}

static void
image_from_row(sqlite3_stmt *st, struct ec2_image_row *r)
{
    memset(r, 0, sizeof(*r));
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->region, sizeof(r->region));
    r->name = col_strdup(st, 2);
    r->description = col_strdup(st, 3);
    r->location = col_strdup(st, 4);
    db_col_text(st, 5, r->owner_id, sizeof(r->owner_id));
    db_col_text(st, 6, r->owner_alias, sizeof(r->owner_alias));
    db_col_text(st, 7, r->state, sizeof(r->state));
    db_col_text(st, 8, r->architecture, sizeof(r->architecture));
    db_col_text(st, 9, r->root_device_name, sizeof(r->root_device_name));
    r->block_devices = col_strdup(st, 10);
    r->ena_support = sqlite3_column_int(st, 11) != 0;
    r->public = sqlite3_column_int(st, 12) != 0;
    r->layer_dir = col_strdup(st, 13);
    db_col_text(st, 14, r->parent_id, sizeof(r->parent_id));
    r->depth = sqlite3_column_int(st, 15);
    r->boot_script = col_strdup(st, 16);
    db_col_text(st, 17, r->source_instance_id, sizeof(r->source_instance_id));
    r->builtin = sqlite3_column_int(st, 18) != 0;
    r->created_ms = sqlite3_column_int64(st, 19);
}

static void
read_image(sqlite3_stmt *st, void *row)
{
    image_from_row(st, row);
}

int
ec2_store_image_put(struct db *db, const struct ec2_image_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IMAGE_PUT);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->name, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, r->description);
    sqlite3_bind_text(st, 5, r->location, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, r->owner_id, -1, SQLITE_TRANSIENT);
    bind_text_empty_null(st, 7, r->owner_alias);
    sqlite3_bind_text(st, 8, r->state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, r->architecture, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, r->root_device_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, r->block_devices ? r->block_devices : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 12, r->ena_support);
    sqlite3_bind_int(st, 13, r->public);
    bind_text_or_null(st, 14, r->layer_dir);
    bind_text_empty_null(st, 15, r->parent_id);
    sqlite3_bind_int(st, 16, r->depth);
    sqlite3_bind_text(st, 17, r->boot_script ? r->boot_script : "", -1, SQLITE_TRANSIENT);
    bind_text_empty_null(st, 18, r->source_instance_id);
    sqlite3_bind_int(st, 19, r->builtin);
    sqlite3_bind_int64(st, 20, r->created_ms);
    return db_step_done(db, st, "insert ec2 image");
}

int
ec2_store_image_get(struct db *db, const char *region, const char *id, struct ec2_image_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IMAGE_GET);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        image_from_row(st, out);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(db, "get ec2 image");
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_image_find_name(struct db *db, const char *region, const char *owner_id, const char *name,
                          char *id, size_t idsz)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IMAGE_FIND_NAME);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        db_col_text(st, 0, id, idsz);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(db, "find ec2 image by name");
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_image_deregister(struct db *db, const char *id, int64_t ms)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IMAGE_DEREGISTER);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, ms);
    return db_step_done(db, st, "deregister ec2 image");
}

int
ec2_store_images_each(struct db *db, const char *region, ec2_store_image_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IMAGES_EACH);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_TRANSIENT);
    size_t n;
    int ret;
    struct ec2_image_row *rows =
            collect_rows(db, st, sizeof(*rows), read_image, &n, &ret, "list ec2 images");
    for (size_t i = 0; i < n; i++) {
        if (ret == 0 && fn(arg, &rows[i]) < 0)
            ret = -1;
        ec2_store_image_release(&rows[i]);
    }
    free(rows);
    return ret;
}

/* ---- launch templates ---- */

#define LT_COLUMNS "id, region, name, default_version, next_version, created_by, created_ms"

static const char SQL_LT_PUT[] =
        "INSERT INTO ec2_launch_templates (" LT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_LT_GET[] =
        "SELECT " LT_COLUMNS " FROM ec2_launch_templates WHERE id = ?1 AND region = ?2";
static const char SQL_LT_GET_BY_NAME[] =
        "SELECT " LT_COLUMNS " FROM ec2_launch_templates WHERE name = ?1 AND region = ?2";
static const char SQL_LT_UPDATE[] =
        "UPDATE ec2_launch_templates SET default_version = ?2, next_version = ?3 WHERE id = ?1";
static const char SQL_LT_DELETE[] = "DELETE FROM ec2_launch_templates WHERE id = ?1";
static const char SQL_LTS_EACH[] = "SELECT " LT_COLUMNS " FROM ec2_launch_templates "
                                   "WHERE region = ?1 ORDER BY created_ms, id";

static void
lt_from_row(sqlite3_stmt *st, struct ec2_lt_row *r)
{
    memset(r, 0, sizeof(*r));
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->region, sizeof(r->region));
    db_col_text(st, 2, r->name, sizeof(r->name));
    r->default_ver = sqlite3_column_int64(st, 3);
    r->next_ver = sqlite3_column_int64(st, 4);
    db_col_text(st, 5, r->created_by, sizeof(r->created_by));
    r->created_ms = sqlite3_column_int64(st, 6);
}

static void
read_lt(sqlite3_stmt *st, void *row)
{
    lt_from_row(st, row);
}

int
ec2_store_lt_put(struct db *db, const struct ec2_lt_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LT_PUT);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, r->default_ver);
    sqlite3_bind_int64(st, 5, r->next_ver);
    sqlite3_bind_text(st, 6, r->created_by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, r->created_ms);
    return db_step_done(db, st, "insert ec2 launch template");
}

static int
lt_get(struct db *db, const char *sql, const char *key, const char *region, struct ec2_lt_row *out)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        lt_from_row(st, out);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(db, "get ec2 launch template");
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_lt_get(struct db *db, const char *region, const char *id, struct ec2_lt_row *out)
{
    return lt_get(db, SQL_LT_GET, id, region, out);
}

int
ec2_store_lt_get_by_name(struct db *db, const char *region, const char *name,
                         struct ec2_lt_row *out)
{
    return lt_get(db, SQL_LT_GET_BY_NAME, name, region, out);
}

int
ec2_store_lt_update(struct db *db, const struct ec2_lt_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LT_UPDATE);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, r->default_ver);
    sqlite3_bind_int64(st, 3, r->next_ver);
    return db_step_done(db, st, "update ec2 launch template");
}

int
ec2_store_lt_delete(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LT_DELETE);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    return db_step_done(db, st, "delete ec2 launch template");
}

int
ec2_store_lts_each(struct db *db, const char *region, ec2_store_lt_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LTS_EACH);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_TRANSIENT);
    size_t n;
    int ret;
    struct ec2_lt_row *rows =
            collect_rows(db, st, sizeof(*rows), read_lt, &n, &ret, "list ec2 launch templates");
    for (size_t i = 0; i < n && ret == 0; i++)
        if (fn(arg, &rows[i]) < 0)
            ret = -1;
    free(rows);
    return ret;
}

/* ---- launch template versions ---- */

#define LTV_COLUMNS "template_id, version, description, data, created_by, created_ms"

static const char SQL_LTV_PUT[] = "INSERT INTO ec2_launch_template_versions (" LTV_COLUMNS
                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_LTV_GET[] = "SELECT " LTV_COLUMNS " FROM ec2_launch_template_versions "
                                  "WHERE template_id = ?1 AND version = ?2";
static const char SQL_LTV_LATEST[] =
        "SELECT COALESCE(MAX(version), 0) FROM ec2_launch_template_versions "
        "WHERE template_id = ?1";
static const char SQL_LTV_DELETE[] =
        "DELETE FROM ec2_launch_template_versions WHERE template_id = ?1 AND version = ?2";
static const char SQL_LTVS_EACH[] = "SELECT " LTV_COLUMNS " FROM ec2_launch_template_versions "
                                    "WHERE template_id = ?1 ORDER BY version DESC";

void
ec2_store_ltv_release(struct ec2_ltv_row *r)
{
    if (!r)
        return;
    free(r->description);
    free(r->data);
    r->description = r->data = NULL;
}

static void
ltv_from_row(sqlite3_stmt *st, struct ec2_ltv_row *r)
{
    memset(r, 0, sizeof(*r));
    db_col_text(st, 0, r->template_id, sizeof(r->template_id));
    r->version = sqlite3_column_int64(st, 1);
    r->description = col_strdup(st, 2);
    r->data = col_strdup(st, 3);
    if (!r->data)
        r->data = xstrdup("{}");
    db_col_text(st, 4, r->created_by, sizeof(r->created_by));
    r->created_ms = sqlite3_column_int64(st, 5);
}

static void
read_ltv(sqlite3_stmt *st, void *row)
{
    ltv_from_row(st, row);
}

int
ec2_store_ltv_put(struct db *db, const struct ec2_ltv_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LTV_PUT);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, r->template_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, r->version);
    bind_text_or_null(st, 3, r->description);
    sqlite3_bind_text(st, 4, r->data ? r->data : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, r->created_by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, r->created_ms);
    return db_step_done(db, st, "insert ec2 launch template version");
}

int
ec2_store_ltv_get(struct db *db, const char *template_id, int64_t version, struct ec2_ltv_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LTV_GET);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, template_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, version);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        ltv_from_row(st, out);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(db, "get ec2 launch template version");
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_ltv_latest(struct db *db, const char *template_id, int64_t *version)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LTV_LATEST);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, template_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int64(st, 0);
    else
        ret = db_error(db, "latest ec2 launch template version");
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_ltv_delete(struct db *db, const char *template_id, int64_t version)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LTV_DELETE);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, template_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, version);
    if (db_step_done(db, st, "delete ec2 launch template version") < 0)
        return -1;
    return sqlite3_changes(db_sqlite(db)) > 0 ? 1 : 0;
}

int
ec2_store_ltvs_each(struct db *db, const char *template_id, ec2_store_ltv_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LTVS_EACH);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, template_id, -1, SQLITE_TRANSIENT);
    size_t n;
    int ret;
    struct ec2_ltv_row *rows = collect_rows(db, st, sizeof(*rows), read_ltv, &n, &ret,
                                            "list ec2 launch template versions");
    for (size_t i = 0; i < n; i++) {
        if (ret == 0 && fn(arg, &rows[i]) < 0)
            ret = -1;
        ec2_store_ltv_release(&rows[i]);
    }
    free(rows);
    return ret;
}
