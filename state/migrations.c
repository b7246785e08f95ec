/*
 * The schema, as numbered migrations: entry i takes a database from PRAGMA user_version i to
 * i + 1, and db_open() applies each pending one in its own transaction. Append new entries
 * at the end; never edit or reorder one that has shipped, since databases in the field have
 * already run it. Only schema statements belong here, no data access.
 */
#include "../emulator/common.h"

#include "db_internal.h"

/* Each area of a service keeps its schema in its own file (state/schema_<area>.c). */
extern const char schema_ec2_network[];
extern const char schema_ec2_images[];
extern const char schema_ec2_instances[];
extern const char schema_autoscaling[];
extern const char schema_autoscaling_policies[];
extern const char schema_elb[];
extern const char schema_route53[];

const char *const db_migrations[] = {
    /* 1: the meta table, for facts about the database itself rather than the AWS world. */
    "CREATE TABLE meta (\n"
    "    key   TEXT PRIMARY KEY,\n"
    "    value TEXT NOT NULL\n"
    ");\n"
    "INSERT INTO meta (key, value) VALUES ('schema_created_at_version', '1');\n",
    /* 2: EC2 VPCs, subnets, security groups, key pairs and tags. */
    schema_ec2_network,
    /* 3: EC2 images and launch templates. */
    schema_ec2_images,
    /* 4: EC2 reservations and instances. */
    schema_ec2_instances,
    /* 5: Auto Scaling launch configurations, groups, their instances, lifecycle hooks and
       scaling activities. */
    schema_autoscaling,
    /* 6: Auto Scaling tags, scaling policies and scheduled actions. */
    schema_autoscaling_policies,
    /* 7: Classic load balancers, their listeners and registered instances. */
    schema_elb,
    /* 8: Route53 hosted zones, record sets, changes, health checks and tags. */
    schema_route53,
};

int
db_migrations_count(void)
{
    return (int)ARRAY_SIZE(db_migrations);
}
