/*
 * Migration: the Route53 tables (hosted zones, their record sets, changes, health checks and
 * the tags of zones and health checks). Schema statements only; the data access is in
 * state/route53.c.
 */
#include "../emulator/common.h"

const char schema_route53[] =
        /* A hosted zone. name is lower case with the trailing dot and no escapes; sort_name
           is its labels reversed and joined by \x01 (ListHostedZonesByName's order).
           name_servers: the four of the delegation set, one per line. */
        "CREATE TABLE r53_zones (\n"
        "    id           TEXT PRIMARY KEY,\n"
        "    name         TEXT NOT NULL,\n"
        "    sort_name    TEXT NOT NULL,\n"
        "    caller_ref   TEXT NOT NULL UNIQUE,\n"
        "    comment      TEXT,\n"
        "    private      INTEGER NOT NULL DEFAULT 0,\n"
        "    vpc_id       TEXT,\n"
        "    vpc_region   TEXT,\n"
        "    name_servers TEXT NOT NULL,\n"
        "    change_id    TEXT NOT NULL,\n"
        "    created_ms   INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX r53_zones_sort ON r53_zones (sort_name, id);\n"
        /* One record set: (name, type, set_id) is unique in a zone (set_id '' for a simple
           record). body is the ResourceRecordSet as the API lists it, as JSON. The order
           columns give ListResourceRecordSets' order: reversed name, type, identifier. */
        "CREATE TABLE r53_rrsets (\n"
        "    zone_id         TEXT NOT NULL REFERENCES r53_zones (id),\n"
        "    name            TEXT NOT NULL,\n"
        "    type            TEXT NOT NULL,\n"
        "    set_id          TEXT NOT NULL DEFAULT '',\n"
        "    sort_name       TEXT NOT NULL,\n"
        "    health_check_id TEXT,\n"
        "    body            TEXT NOT NULL,\n"
        "    PRIMARY KEY (zone_id, name, type, set_id)\n"
        ");\n"
        "CREATE INDEX r53_rrsets_order ON r53_rrsets (zone_id, sort_name, type, set_id);\n"
        "CREATE INDEX r53_rrsets_health ON r53_rrsets (health_check_id);\n"
        /* A change (a batch, a zone's creation or deletion): INSYNC once the virtual clock
           has passed insync_ms. */
        "CREATE TABLE r53_changes (\n"
        "    id           TEXT PRIMARY KEY,\n"
        "    submitted_ms INTEGER NOT NULL,\n"
        "    insync_ms    INTEGER NOT NULL,\n"
        "    comment      TEXT\n"
        ");\n"
        /* A health check: config is its HealthCheckConfig as JSON. status / checked_ms /
           reason are the last verdict of the probes ('' status before the first one). */
        "CREATE TABLE r53_health_checks (\n"
        "    id         TEXT PRIMARY KEY,\n"
        "    caller_ref TEXT NOT NULL UNIQUE,\n"
        "    config     TEXT NOT NULL,\n"
        "    version    INTEGER NOT NULL DEFAULT 1,\n"
        "    created_ms INTEGER NOT NULL,\n"
        "    healthy    INTEGER NOT NULL DEFAULT 1,\n"
        "    checked_ms INTEGER NOT NULL DEFAULT 0,\n"
        "    reason     TEXT NOT NULL DEFAULT ''\n"
        ");\n"
        /* Tags of hosted zones and health checks (resource_type 'hostedzone' | 'healthcheck'). */
        "CREATE TABLE r53_tags (\n"
        "    resource_type TEXT NOT NULL,\n"
        "    resource_id   TEXT NOT NULL,\n"
        "    key           TEXT NOT NULL,\n"
        "    value         TEXT NOT NULL,\n"
        "    PRIMARY KEY (resource_type, resource_id, key)\n"
        ");\n";
