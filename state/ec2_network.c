/*
 * The SQL of the EC2 network area and of EC2 tags (see ec2_network.h): every statement is a
 * static string prepared once through db_stmt() and always bound, never built with printf.
 * Nothing here decides AWS behaviour; it only stores and finds rows.
 */
#include "../emulator/common.h"

#include "ec2_network.h"
#include "db_internal.h"

/* ---- regions ---- */

static const char SQL_REGION_GET[] = "SELECT COUNT(*) FROM ec2_network_regions WHERE region = ?1";
static const char SQL_REGION_PUT[] =
        "INSERT OR IGNORE INTO ec2_network_regions (region) VALUES (?1)";

int
ec2_store_region_initialized(struct db *db, const char *region)
{
    sqlite3_stmt *st = db_stmt(db, SQL_REGION_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    int n = db_query_int(db, st, "ec2 region get");
    return n < 0 ? -1 : n > 0;
}

int
ec2_store_region_mark_initialized(struct db *db, const char *region)
{
    sqlite3_stmt *st = db_stmt(db, SQL_REGION_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    return db_step_done(db, st, "ec2 region put");
}

/* ---- VPCs ---- */

#define VPC_COLS                                                                                   \
    "id, region, cidr, cidr_assoc_id, is_default, instance_tenancy, dhcp_options_id, created_ms"

static const char SQL_VPC_PUT[] =
        "INSERT INTO ec2_vpcs (" VPC_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_VPC_GET[] = "SELECT " VPC_COLS " FROM ec2_vpcs WHERE region = ?1 AND id = ?2";
static const char SQL_VPC_GET_DEFAULT[] = "SELECT " VPC_COLS " FROM ec2_vpcs WHERE region = ?1 "
                                          "AND is_default = 1 ORDER BY rowid LIMIT 1";
static const char SQL_VPC_EACH[] =
        "SELECT " VPC_COLS " FROM ec2_vpcs WHERE region = ?1 ORDER BY rowid";
static const char SQL_VPC_DELETE[] = "DELETE FROM ec2_vpcs WHERE id = ?1";

static void
vpc_from_row(sqlite3_stmt *st, struct ec2_vpc_row *v)
{
    db_col_text(st, 0, v->id, sizeof(v->id));
    db_col_text(st, 1, v->region, sizeof(v->region));
    db_col_text(st, 2, v->cidr, sizeof(v->cidr));
    db_col_text(st, 3, v->cidr_assoc_id, sizeof(v->cidr_assoc_id));
    v->is_default = sqlite3_column_int(st, 4) != 0;
    db_col_text(st, 5, v->instance_tenancy, sizeof(v->instance_tenancy));
    db_col_text(st, 6, v->dhcp_options_id, sizeof(v->dhcp_options_id));
    v->created_ms = sqlite3_column_int64(st, 7);
}

int
ec2_store_vpc_put(struct db *db, const struct ec2_vpc_row *v)
{
    sqlite3_stmt *st = db_stmt(db, SQL_VPC_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, v->id);
    db_bind_text(st, 2, v->region);
    db_bind_text(st, 3, v->cidr);
    db_bind_text(st, 4, v->cidr_assoc_id);
    sqlite3_bind_int(st, 5, v->is_default);
    db_bind_text(st, 6, v->instance_tenancy);
    db_bind_text(st, 7, v->dhcp_options_id);
    sqlite3_bind_int64(st, 8, v->created_ms);
    return db_step_done(db, st, "ec2 vpc put");
}

static void
vpc_conv(sqlite3_stmt *st, void *out)
{
    vpc_from_row(st, out);
}

int
ec2_store_vpc_get(struct db *db, const char *region, const char *id, struct ec2_vpc_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_VPC_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, id);
    return db_get_one(db, st, vpc_conv, out, "ec2 vpc get");
}

int
ec2_store_vpc_get_default(struct db *db, const char *region, struct ec2_vpc_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_VPC_GET_DEFAULT);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    return db_get_one(db, st, vpc_conv, out, "ec2 vpc get default");
}

/* The callback of one "each" listing, whatever its row type. */
struct each_ctx {
    int (*call)(const struct each_ctx *ctx, const void *row); /* calls the typed fn */
    union {
        ec2_store_vpc_fn *vpc;
        ec2_store_subnet_fn *subnet;
        ec2_store_sg_fn *sg;
        ec2_store_sg_rule_fn *rule;
        ec2_store_key_pair_fn *key;
    } fn;      /* the caller's callback */
    void *arg; /* the caller's argument */
};

/*
 * Converts each row of a listing statement into `row` and hands it to the callback. The
 * callbacks may run other statements (SQLite allows that while this one is open) but never
 * this same one, and never change the table being listed.
 */
static int
each_rows(struct db *db, sqlite3_stmt *st, void (*conv)(sqlite3_stmt *, void *), void *row,
          const struct each_ctx *ctx, const char *what)
{
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        conv(st, row);
        ret = ctx->call(ctx, row);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_error(db, what);
    sqlite3_reset(st);
    return ret;
}

static int
vpc_call(const struct each_ctx *ctx, const void *row)
{
    return ctx->fn.vpc(ctx->arg, row);
}

int
ec2_store_vpc_each(struct db *db, const char *region, ec2_store_vpc_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_VPC_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    struct ec2_vpc_row row;
    return each_rows(db, st, vpc_conv, &row, &(struct each_ctx){ vpc_call, { .vpc = fn }, arg },
                     "ec2 vpc each");
}

int
ec2_store_vpc_delete(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_VPC_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_step_done(db, st, "ec2 vpc delete");
}

/* ---- subnets ---- */

#define SUBNET_COLS "id, region, vpc_id, az, cidr, default_for_az, map_public_ip, created_ms"

static const char SQL_SUBNET_PUT[] =
        "INSERT INTO ec2_subnets (" SUBNET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_SUBNET_GET[] =
        "SELECT " SUBNET_COLS " FROM ec2_subnets WHERE region = ?1 AND id = ?2";
static const char SQL_SUBNET_GET_DEFAULT[] =
        "SELECT " SUBNET_COLS " FROM ec2_subnets WHERE region = ?1 AND az = ?2 "
        "AND default_for_az = 1 ORDER BY rowid LIMIT 1";
static const char SQL_SUBNET_EACH[] =
        "SELECT " SUBNET_COLS " FROM ec2_subnets WHERE region = ?1 ORDER BY rowid";
static const char SQL_SUBNET_EACH_IN_VPC[] =
        "SELECT " SUBNET_COLS " FROM ec2_subnets WHERE vpc_id = ?1 ORDER BY rowid";
static const char SQL_SUBNET_COUNT_IN_VPC[] = "SELECT COUNT(*) FROM ec2_subnets WHERE vpc_id = ?1";
static const char SQL_SUBNET_DELETE[] = "DELETE FROM ec2_subnets WHERE id = ?1";

static void
subnet_conv(sqlite3_stmt *st, void *out)
{
    struct ec2_subnet_row *s = out;
    db_col_text(st, 0, s->id, sizeof(s->id));
    db_col_text(st, 1, s->region, sizeof(s->region));
    db_col_text(st, 2, s->vpc_id, sizeof(s->vpc_id));
    db_col_text(st, 3, s->az, sizeof(s->az));
    db_col_text(st, 4, s->cidr, sizeof(s->cidr));
    s->default_for_az = sqlite3_column_int(st, 5) != 0;
    s->map_public_ip = sqlite3_column_int(st, 6) != 0;
    s->created_ms = sqlite3_column_int64(st, 7);
}

static int
subnet_call(const struct each_ctx *ctx, const void *row)
{
    return ctx->fn.subnet(ctx->arg, row);
}

int
ec2_store_subnet_put(struct db *db, const struct ec2_subnet_row *s)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SUBNET_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, s->id);
    db_bind_text(st, 2, s->region);
    db_bind_text(st, 3, s->vpc_id);
    db_bind_text(st, 4, s->az);
    db_bind_text(st, 5, s->cidr);
    sqlite3_bind_int(st, 6, s->default_for_az);
    sqlite3_bind_int(st, 7, s->map_public_ip);
    sqlite3_bind_int64(st, 8, s->created_ms);
    return db_step_done(db, st, "ec2 subnet put");
}

int
ec2_store_subnet_get(struct db *db, const char *region, const char *id, struct ec2_subnet_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SUBNET_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, id);
    return db_get_one(db, st, subnet_conv, out, "ec2 subnet get");
}

int
ec2_store_subnet_get_default(struct db *db, const char *region, const char *az,
                             struct ec2_subnet_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SUBNET_GET_DEFAULT);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, az);
    return db_get_one(db, st, subnet_conv, out, "ec2 subnet get default");
}

int
ec2_store_subnet_each(struct db *db, const char *region, ec2_store_subnet_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SUBNET_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    struct ec2_subnet_row row;
    return each_rows(db, st, subnet_conv, &row,
                     &(struct each_ctx){ subnet_call, { .subnet = fn }, arg }, "ec2 subnet each");
}

int
ec2_store_subnet_each_in_vpc(struct db *db, const char *vpc_id, ec2_store_subnet_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SUBNET_EACH_IN_VPC);
    if (!st)
        return -1;
    db_bind_text(st, 1, vpc_id);
    struct ec2_subnet_row row;
    return each_rows(db, st, subnet_conv, &row,
                     &(struct each_ctx){ subnet_call, { .subnet = fn }, arg },
                     "ec2 subnet each in vpc");
}

int
ec2_store_subnet_count_in_vpc(struct db *db, const char *vpc_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SUBNET_COUNT_IN_VPC);
    if (!st)
        return -1;
    db_bind_text(st, 1, vpc_id);
    return db_query_int(db, st, "ec2 subnet count");
}

int
ec2_store_subnet_delete(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SUBNET_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_step_done(db, st, "ec2 subnet delete");
}

/* ---- addresses ---- */

/* The first candidate itself if free, else the smallest taken address >= first whose
   successor is free: together the lowest free address >= first. */
static const char SQL_IP_LOWEST_FREE[] =
        "SELECT c FROM ("
        "  SELECT ?2 AS c WHERE NOT EXISTS "
        "    (SELECT 1 FROM ec2_subnet_ips WHERE subnet_id = ?1 AND ip = ?2)"
        "  UNION ALL "
        "  SELECT a.ip + 1 AS c FROM ec2_subnet_ips a WHERE a.subnet_id = ?1 AND a.ip >= ?2 "
        "    AND NOT EXISTS (SELECT 1 FROM ec2_subnet_ips b WHERE b.subnet_id = ?1 "
        "                    AND b.ip = a.ip + 1)"
        ") ORDER BY c LIMIT 1";
static const char SQL_IP_PUT[] = "INSERT INTO ec2_subnet_ips (subnet_id, ip) VALUES (?1, ?2)";
static const char SQL_IP_DELETE[] = "DELETE FROM ec2_subnet_ips WHERE subnet_id = ?1 AND ip = ?2";
static const char SQL_IP_COUNT[] = "SELECT COUNT(*) FROM ec2_subnet_ips WHERE subnet_id = ?1";

int
ec2_store_subnet_ip_lowest_free(struct db *db, const char *subnet_id, uint32_t first, uint32_t last,
                                uint32_t *ip)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IP_LOWEST_FREE);
    if (!st)
        return -1;
    db_bind_text(st, 1, subnet_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)first);
    int rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 c = sqlite3_column_int64(st, 0);
        ret = c <= (sqlite3_int64)last;
        if (ret)
            *ip = (uint32_t)c;
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        ret = db_error(db, "ec2 subnet ip lowest free");
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_subnet_ip_put(struct db *db, const char *subnet_id, uint32_t ip)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IP_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, subnet_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)ip);
    return db_step_done(db, st, "ec2 subnet ip put");
}

int
ec2_store_subnet_ip_delete(struct db *db, const char *subnet_id, uint32_t ip)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IP_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, subnet_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)ip);
    return db_step_done(db, st, "ec2 subnet ip delete");
}

int
ec2_store_subnet_ip_count(struct db *db, const char *subnet_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_IP_COUNT);
    if (!st)
        return -1;
    db_bind_text(st, 1, subnet_id);
    return db_query_int(db, st, "ec2 subnet ip count");
}

/* ---- security groups ---- */

#define SG_COLS "id, region, vpc_id, name, description, created_ms"

static const char SQL_SG_PUT[] =
        "INSERT INTO ec2_security_groups (" SG_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_SG_GET[] =
        "SELECT " SG_COLS " FROM ec2_security_groups WHERE region = ?1 AND id = ?2";
static const char SQL_SG_GET_BY_NAME[] = "SELECT " SG_COLS " FROM ec2_security_groups "
                                         "WHERE vpc_id = ?1 AND name = ?2";
static const char SQL_SG_EACH[] =
        "SELECT " SG_COLS " FROM ec2_security_groups WHERE region = ?1 ORDER BY rowid";
static const char SQL_SG_COUNT_NON_DEFAULT[] =
        "SELECT COUNT(*) FROM ec2_security_groups WHERE vpc_id = ?1 AND name <> 'default'";
static const char SQL_SG_DELETE_RULES[] = "DELETE FROM ec2_security_group_rules "
                                          "WHERE group_id = ?1";
static const char SQL_SG_DELETE_USERS[] = "DELETE FROM ec2_security_group_users "
                                          "WHERE group_id = ?1";
static const char SQL_SG_DELETE[] = "DELETE FROM ec2_security_groups WHERE id = ?1";
static const char SQL_SG_REFERENCED[] = "SELECT EXISTS (SELECT 1 FROM ec2_security_group_rules "
                                        "WHERE ref_group_id = ?1 AND group_id <> ?1)";
static const char SQL_SG_USER_PUT[] = "INSERT OR IGNORE INTO ec2_security_group_users "
                                      "(group_id, user_id) VALUES (?1, ?2)";
static const char SQL_SG_USER_DELETE_ALL[] = "DELETE FROM ec2_security_group_users "
                                             "WHERE user_id = ?1";
static const char SQL_SG_IN_USE[] = "SELECT EXISTS (SELECT 1 FROM ec2_security_group_users "
                                    "WHERE group_id = ?1)";

static void
sg_conv(sqlite3_stmt *st, void *out)
{
    struct ec2_sg_row *g = out;
    db_col_text(st, 0, g->id, sizeof(g->id));
    db_col_text(st, 1, g->region, sizeof(g->region));
    db_col_text(st, 2, g->vpc_id, sizeof(g->vpc_id));
    db_col_text(st, 3, g->name, sizeof(g->name));
    db_col_text(st, 4, g->description, sizeof(g->description));
    g->created_ms = sqlite3_column_int64(st, 5);
}

static int
sg_call(const struct each_ctx *ctx, const void *row)
{
    return ctx->fn.sg(ctx->arg, row);
}

int
ec2_store_sg_put(struct db *db, const struct ec2_sg_row *g)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, g->id);
    db_bind_text(st, 2, g->region);
    db_bind_text(st, 3, g->vpc_id);
    db_bind_text(st, 4, g->name);
    db_bind_text(st, 5, g->description);
    sqlite3_bind_int64(st, 6, g->created_ms);
    return db_step_done(db, st, "ec2 sg put");
}

int
ec2_store_sg_get(struct db *db, const char *region, const char *id, struct ec2_sg_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, id);
    return db_get_one(db, st, sg_conv, out, "ec2 sg get");
}

int
ec2_store_sg_get_by_name(struct db *db, const char *vpc_id, const char *name,
                         struct ec2_sg_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_GET_BY_NAME);
    if (!st)
        return -1;
    db_bind_text(st, 1, vpc_id);
    db_bind_text(st, 2, name);
    return db_get_one(db, st, sg_conv, out, "ec2 sg get by name");
}

int
ec2_store_sg_each(struct db *db, const char *region, ec2_store_sg_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    struct ec2_sg_row row;
    return each_rows(db, st, sg_conv, &row, &(struct each_ctx){ sg_call, { .sg = fn }, arg },
                     "ec2 sg each");
}

int
ec2_store_sg_count_non_default_in_vpc(struct db *db, const char *vpc_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_COUNT_NON_DEFAULT);
    if (!st)
        return -1;
    db_bind_text(st, 1, vpc_id);
    return db_query_int(db, st, "ec2 sg count");
}

int
ec2_store_sg_delete(struct db *db, const char *id)
{
    static const char *const sqls[] = { SQL_SG_DELETE_RULES, SQL_SG_DELETE_USERS, SQL_SG_DELETE };
    for (size_t i = 0; i < ARRAY_SIZE(sqls); i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st)
            return -1;
        db_bind_text(st, 1, id);
        if (db_step_done(db, st, "ec2 sg delete") < 0)
            return -1;
    }
    return 0;
}

int
ec2_store_sg_is_referenced(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_REFERENCED);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_query_int(db, st, "ec2 sg referenced");
}

int
ec2_store_sg_user_put(struct db *db, const char *group_id, const char *user_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_USER_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, group_id);
    db_bind_text(st, 2, user_id);
    return db_step_done(db, st, "ec2 sg user put");
}

int
ec2_store_sg_user_delete_all(struct db *db, const char *user_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_USER_DELETE_ALL);
    if (!st)
        return -1;
    db_bind_text(st, 1, user_id);
    return db_step_done(db, st, "ec2 sg user delete");
}

int
ec2_store_sg_in_use(struct db *db, const char *group_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SG_IN_USE);
    if (!st)
        return -1;
    db_bind_text(st, 1, group_id);
    return db_query_int(db, st, "ec2 sg in use");
}

/* ---- security group rules ---- */

#define RULE_COLS                                                                                  \
    "id, group_id, is_egress, protocol, from_port, to_port, cidr_ipv4, cidr_ipv6, "                \
    "prefix_list_id, ref_group_id, ref_user_id, description"

static const char SQL_RULE_PUT[] = "INSERT INTO ec2_security_group_rules (" RULE_COLS
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
static const char SQL_RULE_EACH[] = "SELECT " RULE_COLS " FROM ec2_security_group_rules "
                                    "WHERE group_id = ?1 ORDER BY rowid";
static const char SQL_RULE_DELETE[] = "DELETE FROM ec2_security_group_rules WHERE id = ?1";

static void
rule_conv(sqlite3_stmt *st, void *out)
{
    struct ec2_sg_rule_row *r = out;
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->group_id, sizeof(r->group_id));
    r->is_egress = sqlite3_column_int(st, 2) != 0;
    db_col_text(st, 3, r->protocol, sizeof(r->protocol));
    r->has_ports = sqlite3_column_type(st, 4) != SQLITE_NULL;
    r->from_port = sqlite3_column_int(st, 4);
    r->to_port = sqlite3_column_int(st, 5);
    db_col_text(st, 6, r->cidr_ipv4, sizeof(r->cidr_ipv4));
    db_col_text(st, 7, r->cidr_ipv6, sizeof(r->cidr_ipv6));
    db_col_text(st, 8, r->prefix_list_id, sizeof(r->prefix_list_id));
    db_col_text(st, 9, r->ref_group_id, sizeof(r->ref_group_id));
    db_col_text(st, 10, r->ref_user_id, sizeof(r->ref_user_id));
    db_col_text(st, 11, r->description, sizeof(r->description));
}

static int
rule_call(const struct each_ctx *ctx, const void *row)
{
    return ctx->fn.rule(ctx->arg, row);
}

/* Binds s, or NULL for "" (absent peers and descriptions are NULL in the table). */
static void
bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s[0])
        db_bind_text(st, i, s);
    else
        sqlite3_bind_null(st, i);
}

int
ec2_store_sg_rule_put(struct db *db, const struct ec2_sg_rule_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RULE_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, r->id);
    db_bind_text(st, 2, r->group_id);
    sqlite3_bind_int(st, 3, r->is_egress);
    db_bind_text(st, 4, r->protocol);
    if (r->has_ports) {
        sqlite3_bind_int(st, 5, r->from_port);
        sqlite3_bind_int(st, 6, r->to_port);
    }
    bind_opt(st, 7, r->cidr_ipv4);
    bind_opt(st, 8, r->cidr_ipv6);
    bind_opt(st, 9, r->prefix_list_id);
    bind_opt(st, 10, r->ref_group_id);
    bind_opt(st, 11, r->ref_user_id);
    bind_opt(st, 12, r->description);
    return db_step_done(db, st, "ec2 sg rule put");
}

int
ec2_store_sg_rule_each(struct db *db, const char *group_id, ec2_store_sg_rule_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RULE_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, group_id);
    struct ec2_sg_rule_row row;
    return each_rows(db, st, rule_conv, &row, &(struct each_ctx){ rule_call, { .rule = fn }, arg },
                     "ec2 sg rule each");
}

int
ec2_store_sg_rule_delete(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RULE_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_step_done(db, st, "ec2 sg rule delete");
}

/* ---- key pairs ---- */

#define KEY_COLS "id, region, name, key_type, fingerprint, public_key, created_ms"

static const char SQL_KEY_PUT[] =
        "INSERT INTO ec2_key_pairs (" KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_KEY_GET_BY_NAME[] =
        "SELECT " KEY_COLS " FROM ec2_key_pairs WHERE region = ?1 AND name = ?2";
static const char SQL_KEY_GET[] =
        "SELECT " KEY_COLS " FROM ec2_key_pairs WHERE region = ?1 AND id = ?2";
static const char SQL_KEY_EACH[] =
        "SELECT " KEY_COLS " FROM ec2_key_pairs WHERE region = ?1 ORDER BY rowid";
static const char SQL_KEY_DELETE[] = "DELETE FROM ec2_key_pairs WHERE id = ?1";

static void
key_conv(sqlite3_stmt *st, void *out)
{
    struct ec2_key_pair_row *k = out;
    db_col_text(st, 0, k->id, sizeof(k->id));
    db_col_text(st, 1, k->region, sizeof(k->region));
    db_col_text(st, 2, k->name, sizeof(k->name));
    db_col_text(st, 3, k->key_type, sizeof(k->key_type));
    db_col_text(st, 4, k->fingerprint, sizeof(k->fingerprint));
    db_col_text(st, 5, k->public_key, sizeof(k->public_key));
    k->created_ms = sqlite3_column_int64(st, 6);
}

static int
key_call(const struct each_ctx *ctx, const void *row)
{
    return ctx->fn.key(ctx->arg, row);
}

int
ec2_store_key_pair_put(struct db *db, const struct ec2_key_pair_row *k)
{
    sqlite3_stmt *st = db_stmt(db, SQL_KEY_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, k->id);
    db_bind_text(st, 2, k->region);
    db_bind_text(st, 3, k->name);
    db_bind_text(st, 4, k->key_type);
    db_bind_text(st, 5, k->fingerprint);
    db_bind_text(st, 6, k->public_key);
    sqlite3_bind_int64(st, 7, k->created_ms);
    return db_step_done(db, st, "ec2 key pair put");
}

int
ec2_store_key_pair_get_by_name(struct db *db, const char *region, const char *name,
                               struct ec2_key_pair_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_KEY_GET_BY_NAME);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, name);
    return db_get_one(db, st, key_conv, out, "ec2 key pair get by name");
}

int
ec2_store_key_pair_get(struct db *db, const char *region, const char *id,
                       struct ec2_key_pair_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_KEY_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, id);
    return db_get_one(db, st, key_conv, out, "ec2 key pair get");
}

int
ec2_store_key_pair_each(struct db *db, const char *region, ec2_store_key_pair_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_KEY_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    struct ec2_key_pair_row *row = xmalloc(sizeof(*row));
    int rc = each_rows(db, st, key_conv, row, &(struct each_ctx){ key_call, { .key = fn }, arg },
                       "ec2 key pair each");
    free(row);
    return rc;
}

int
ec2_store_key_pair_delete(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_KEY_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_step_done(db, st, "ec2 key pair delete");
}

/* ---- tags ---- */

static const char SQL_TAG_PUT[] =
        "INSERT INTO ec2_tags (resource_id, resource_type, region, key, value) "
        "VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value";
static const char SQL_TAG_DELETE_ANY[] = "DELETE FROM ec2_tags WHERE resource_id = ?1 AND key = ?2";
static const char SQL_TAG_DELETE_VALUE[] = "DELETE FROM ec2_tags WHERE resource_id = ?1 "
                                           "AND key = ?2 AND value = ?3";
static const char SQL_TAG_DELETE_ALL[] = "DELETE FROM ec2_tags WHERE resource_id = ?1";
static const char SQL_TAG_COUNT[] = "SELECT COUNT(*) FROM ec2_tags WHERE resource_id = ?1";
static const char SQL_TAG_EACH_OF[] = "SELECT resource_id, resource_type, key, value FROM ec2_tags "
                                      "WHERE resource_id = ?1 ORDER BY key";
static const char SQL_TAG_EACH[] = "SELECT resource_id, resource_type, key, value FROM ec2_tags "
                                   "WHERE region = ?1 ORDER BY resource_id, key";

int
ec2_store_tag_put(struct db *db, const char *region, const char *resource_id,
                  const char *resource_type, const char *key, const char *value)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, resource_id);
    db_bind_text(st, 2, resource_type);
    db_bind_text(st, 3, region);
    db_bind_text(st, 4, key);
    db_bind_text(st, 5, value);
    return db_step_done(db, st, "ec2 tag put");
}

int
ec2_store_tag_delete(struct db *db, const char *resource_id, const char *key, const char *value)
{
    sqlite3_stmt *st = db_stmt(db, value ? SQL_TAG_DELETE_VALUE : SQL_TAG_DELETE_ANY);
    if (!st)
        return -1;
    db_bind_text(st, 1, resource_id);
    db_bind_text(st, 2, key);
    if (value)
        db_bind_text(st, 3, value);
    return db_step_done(db, st, "ec2 tag delete");
}

int
ec2_store_tag_delete_all(struct db *db, const char *resource_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_DELETE_ALL);
    if (!st)
        return -1;
    db_bind_text(st, 1, resource_id);
    return db_step_done(db, st, "ec2 tag delete all");
}

int
ec2_store_tag_count(struct db *db, const char *resource_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_COUNT);
    if (!st)
        return -1;
    db_bind_text(st, 1, resource_id);
    return db_query_int(db, st, "ec2 tag count");
}

static int
tag_rows(struct db *db, sqlite3_stmt *st, ec2_store_tag_fn *fn, void *arg)
{
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ec2_tag_row row = { (const char *)sqlite3_column_text(st, 0),
                                   (const char *)sqlite3_column_text(st, 1),
                                   (const char *)sqlite3_column_text(st, 2),
                                   (const char *)sqlite3_column_text(st, 3) };
        ret = fn(arg, &row);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_error(db, "ec2 tag each");
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_tag_each_of(struct db *db, const char *resource_id, ec2_store_tag_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_EACH_OF);
    if (!st)
        return -1;
    db_bind_text(st, 1, resource_id);
    return tag_rows(db, st, fn, arg);
}

int
ec2_store_tag_each(struct db *db, const char *region, ec2_store_tag_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    return tag_rows(db, st, fn, arg);
}
