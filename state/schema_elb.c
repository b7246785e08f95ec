/*
 * Migration: the Classic Load Balancer tables (load balancers, their listeners and the
 * instances registered with them, health included). Schema statements only; the data access
 * is in state/elb.c.
 */
#include "../emulator/common.h"

const char schema_elb[] =
        /* A load balancer; names are unique within a region. The lists (zones, subnets,
           security groups, tags, the access-log and additional attributes) are JSON text, as
           the API shapes them; the health check and the other attributes are columns. */
        "CREATE TABLE elb_load_balancers (\n"
        "    region          TEXT NOT NULL,\n"
        "    name            TEXT NOT NULL,\n"
        "    dns_name        TEXT NOT NULL,\n"
        "    scheme          TEXT NOT NULL,\n"
        "    vpc_id          TEXT NOT NULL,\n"
        "    zones           TEXT NOT NULL,\n"
        "    subnets         TEXT NOT NULL,\n"
        "    security_groups TEXT NOT NULL,\n"
        "    hc_target       TEXT NOT NULL,\n"
        "    hc_interval     INTEGER NOT NULL,\n"
        "    hc_timeout      INTEGER NOT NULL,\n"
        "    hc_unhealthy    INTEGER NOT NULL,\n"
        "    hc_healthy      INTEGER NOT NULL,\n"
        "    cross_zone      INTEGER NOT NULL,\n"
        "    drain_enabled   INTEGER NOT NULL,\n"
        "    drain_timeout   INTEGER NOT NULL,\n"
        "    idle_timeout    INTEGER NOT NULL,\n"
        "    access_log      TEXT NOT NULL,\n"
        "    additional      TEXT NOT NULL,\n"
        "    tags            TEXT NOT NULL,\n"
        "    created_ms      INTEGER NOT NULL,\n"
        "    PRIMARY KEY (region, name)\n"
        ");\n"
        "CREATE INDEX elb_load_balancers_dns ON elb_load_balancers (dns_name COLLATE NOCASE);\n"
        /* A listener. host_port is the loopback port the data plane accepts on (0 while none
           is bound: before the first loop pass, or in tests without a loop). */
        "CREATE TABLE elb_listeners (\n"
        "    region            TEXT NOT NULL,\n"
        "    lb_name           TEXT NOT NULL,\n"
        "    lb_port           INTEGER NOT NULL,\n"
        "    protocol          TEXT NOT NULL,\n"
        "    instance_protocol TEXT NOT NULL,\n"
        "    instance_port     INTEGER NOT NULL,\n"
        "    ssl_cert          TEXT NOT NULL,\n"
        "    host_port         INTEGER NOT NULL DEFAULT 0,\n"
        "    PRIMARY KEY (region, lb_name, lb_port)\n"
        ");\n"
        /* An instance known to a load balancer: registered (1), or deregistered (0) but kept
           so DescribeInstanceHealth can still name it. drain_until_ms > 0 while a
           deregistration drains. The health verdict is state + the consecutive streaks;
           checks counts the checks since registration. */
        "CREATE TABLE elb_instances (\n"
        "    region         TEXT NOT NULL,\n"
        "    lb_name        TEXT NOT NULL,\n"
        "    instance_id    TEXT NOT NULL,\n"
        "    registered     INTEGER NOT NULL,\n"
        "    drain_until_ms INTEGER NOT NULL DEFAULT 0,\n"
        "    in_service     INTEGER NOT NULL DEFAULT 0,\n"
        "    ok_streak      INTEGER NOT NULL DEFAULT 0,\n"
        "    fail_streak    INTEGER NOT NULL DEFAULT 0,\n"
        "    checks         INTEGER NOT NULL DEFAULT 0,\n"
        "    registered_ms  INTEGER NOT NULL,\n"
        "    PRIMARY KEY (region, lb_name, instance_id)\n"
        ");\n";
