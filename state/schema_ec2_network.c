/*
 * Migration: the EC2 network tables (VPCs, subnets, the private addresses taken in each
 * subnet, security groups and their rules, key pairs) and the tags of every EC2 resource.
 * Schema statements only; the data access is in state/ec2_network.c.
 */
#include "../emulator/common.h"

const char schema_ec2_network[] =
        /* The regions whose default VPC has been made: once only, so that deleting the
           default VPC keeps it deleted, as in AWS. */
        "CREATE TABLE ec2_network_regions (\n"
        "    region TEXT PRIMARY KEY\n"
        ");\n"
        /* A VPC. cidr_assoc_id is the id of its primary IPv4 CIDR association
           (vpc-cidr-assoc-...), which DescribeVpcs reports in CidrBlockAssociationSet. */
        "CREATE TABLE ec2_vpcs (\n"
        "    id               TEXT PRIMARY KEY,\n"
        "    region           TEXT NOT NULL,\n"
        "    cidr             TEXT NOT NULL,\n"
        "    cidr_assoc_id    TEXT NOT NULL,\n"
        "    is_default       INTEGER NOT NULL DEFAULT 0,\n"
        "    instance_tenancy TEXT NOT NULL DEFAULT 'default',\n"
        "    dhcp_options_id  TEXT NOT NULL,\n"
        "    created_ms       INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX ec2_vpcs_region ON ec2_vpcs (region, is_default);\n"
        /* A subnet. Describe lists rows in rowid (creation) order. */
        "CREATE TABLE ec2_subnets (\n"
        "    id             TEXT PRIMARY KEY,\n"
        "    region         TEXT NOT NULL,\n"
        "    vpc_id         TEXT NOT NULL REFERENCES ec2_vpcs (id),\n"
        "    az             TEXT NOT NULL,\n"
        "    cidr           TEXT NOT NULL,\n"
        "    default_for_az INTEGER NOT NULL DEFAULT 0,\n"
        "    map_public_ip  INTEGER NOT NULL DEFAULT 0,\n"
        "    created_ms     INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX ec2_subnets_vpc ON ec2_subnets (vpc_id);\n"
        "CREATE INDEX ec2_subnets_region ON ec2_subnets (region, az, default_for_az);\n"
        /* Private IPv4 addresses in use in a subnet (ec2_subnet_allocate_ip), as integers in
           host order so the lowest free one is one query away. */
        "CREATE TABLE ec2_subnet_ips (\n"
        "    subnet_id TEXT NOT NULL REFERENCES ec2_subnets (id),\n"
        "    ip        INTEGER NOT NULL,\n"
        "    PRIMARY KEY (subnet_id, ip)\n"
        ");\n"
        /* A security group: names are unique within a VPC. */
        "CREATE TABLE ec2_security_groups (\n"
        "    id          TEXT PRIMARY KEY,\n"
        "    region      TEXT NOT NULL,\n"
        "    vpc_id      TEXT NOT NULL REFERENCES ec2_vpcs (id),\n"
        "    name        TEXT NOT NULL,\n"
        "    description TEXT NOT NULL,\n"
        "    created_ms  INTEGER NOT NULL,\n"
        "    UNIQUE (vpc_id, name)\n"
        ");\n"
        "CREATE INDEX ec2_security_groups_region ON ec2_security_groups (region);\n"
        /* One rule of a group, i.e. one peer of one (protocol, port range): AWS's
           SecurityGroupRule. Exactly one of cidr_ipv4, cidr_ipv6, prefix_list_id and
           ref_group_id is set. Ports are NULL where the protocol has none; rowid order is
           the order rules were added in. */
        "CREATE TABLE ec2_security_group_rules (\n"
        "    id             TEXT PRIMARY KEY,\n"
        "    group_id       TEXT NOT NULL REFERENCES ec2_security_groups (id),\n"
        "    is_egress      INTEGER NOT NULL,\n"
        "    protocol       TEXT NOT NULL,\n"
        "    from_port      INTEGER,\n"
        "    to_port        INTEGER,\n"
        "    cidr_ipv4      TEXT,\n"
        "    cidr_ipv6      TEXT,\n"
        "    prefix_list_id TEXT,\n"
        "    ref_group_id   TEXT,\n"
        "    ref_user_id    TEXT,\n"
        "    description    TEXT\n"
        ");\n"
        "CREATE INDEX ec2_security_group_rules_group ON ec2_security_group_rules (group_id);\n"
        "CREATE INDEX ec2_security_group_rules_ref ON ec2_security_group_rules (ref_group_id);\n"
        /* What uses a group (an instance or interface id): such a group cannot be deleted. */
        "CREATE TABLE ec2_security_group_users (\n"
        "    group_id TEXT NOT NULL REFERENCES ec2_security_groups (id),\n"
        "    user_id  TEXT NOT NULL,\n"
        "    PRIMARY KEY (group_id, user_id)\n"
        ");\n"
        "CREATE INDEX ec2_security_group_users_user ON ec2_security_group_users (user_id);\n"
        /* A key pair: names are unique within a region; the private key is never kept. */
        "CREATE TABLE ec2_key_pairs (\n"
        "    id          TEXT PRIMARY KEY,\n"
        "    region      TEXT NOT NULL,\n"
        "    name        TEXT NOT NULL,\n"
        "    key_type    TEXT NOT NULL,\n"
        "    fingerprint TEXT NOT NULL,\n"
        "    public_key  TEXT NOT NULL,\n"
        "    created_ms  INTEGER NOT NULL,\n"
        "    UNIQUE (region, name)\n"
        ");\n"
        /* The tags of every EC2 resource, whatever its type (vpc, instance, image, ...). */
        "CREATE TABLE ec2_tags (\n"
        "    resource_id   TEXT NOT NULL,\n"
        "    resource_type TEXT NOT NULL,\n"
        "    region        TEXT NOT NULL,\n"
        "    key           TEXT NOT NULL,\n"
        "    value         TEXT NOT NULL,\n"
        "    PRIMARY KEY (resource_id, key)\n"
        ");\n"
        "CREATE INDEX ec2_tags_region ON ec2_tags (region, resource_id);\n";
