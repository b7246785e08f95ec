/*
 * Migration: the EC2 instances tables (reservations, instances, the faults in force and the
 * instance metadata service's session tokens). Schema statements only; the data access is in
 * state/ec2_instances.c.
 */
#include "../emulator/common.h"

const char schema_ec2_instances[] =
        /* One RunInstances call. client_token makes a retried call return this reservation;
           request_digest tells a retry from a reuse with other parameters. */
        "CREATE TABLE ec2_reservations (\n"
        "    id             TEXT PRIMARY KEY,\n"
        "    region         TEXT NOT NULL,\n"
        "    owner_id       TEXT NOT NULL,\n"
        "    client_token   TEXT,\n"
        "    request_digest TEXT NOT NULL DEFAULT '',\n"
        "    created_ms     INTEGER NOT NULL\n"
        ");\n"
        "CREATE UNIQUE INDEX ec2_reservations_token ON ec2_reservations (region, client_token)\n"
        "    WHERE client_token IS NOT NULL;\n"
        /* An instance. rowid order is launch order (DescribeInstances lists in it). The JSON
           columns hold what AWS echoes back as given (IamInstanceProfile, the resolved
           security groups, MetadataOptions) and the port map {"80": host port}. user_data is
           the base64 text as received; it runs on the first boot only (first_boot_done). */
        "CREATE TABLE ec2_instances (\n"
        "    id                      TEXT PRIMARY KEY,\n"
        "    region                  TEXT NOT NULL,\n"
        "    reservation_id          TEXT NOT NULL REFERENCES ec2_reservations (id),\n"
        "    image_id                TEXT NOT NULL,\n"
        "    instance_type           TEXT NOT NULL,\n"
        "    az                      TEXT NOT NULL,\n"
        "    subnet_id               TEXT NOT NULL,\n"
        "    vpc_id                  TEXT NOT NULL,\n"
        "    private_ip              TEXT NOT NULL,\n"
        "    state_code              INTEGER NOT NULL,\n"
        "    state_reason_code       TEXT NOT NULL DEFAULT '',\n"
        "    state_reason_message    TEXT NOT NULL DEFAULT '',\n"
        "    transition_reason       TEXT NOT NULL DEFAULT '',\n"
        "    launch_ms               INTEGER NOT NULL,\n"
        "    key_name                TEXT NOT NULL DEFAULT '',\n"
        "    user_data               TEXT NOT NULL DEFAULT '',\n"
        "    client_token            TEXT NOT NULL DEFAULT '',\n"
        "    shutdown_behavior       TEXT NOT NULL DEFAULT 'stop',\n"
        "    disable_api_termination INTEGER NOT NULL DEFAULT 0,\n"
        "    iam_profile             TEXT NOT NULL DEFAULT '',\n"
        "    security_groups         TEXT NOT NULL DEFAULT '[]',\n"
        "    metadata_options        TEXT NOT NULL DEFAULT '{}',\n"
        "    ports                   TEXT NOT NULL DEFAULT '{}',\n"
        "    first_boot_done         INTEGER NOT NULL DEFAULT 0,\n"
        "    reboot_pending          INTEGER NOT NULL DEFAULT 0,\n"
        "    ami_launch_index        INTEGER NOT NULL DEFAULT 0,\n"
        "    terminated_ms           INTEGER\n"
        ");\n"
        "CREATE INDEX ec2_instances_region ON ec2_instances (region);\n"
        "CREATE INDEX ec2_instances_reservation ON ec2_instances (reservation_id);\n"
        /* Faults in force ("kill" / "hang" of an instance id, "az-down" of a zone name), so
           they survive a restart of fogbank. */
        "CREATE TABLE ec2_faults (\n"
        "    kind       TEXT NOT NULL,\n"
        "    target     TEXT NOT NULL,\n"
        "    created_ms INTEGER NOT NULL,\n"
        "    PRIMARY KEY (kind, target)\n"
        ");\n"
        /* IMDSv2 session tokens (PUT /latest/api/token), valid until expires_ms. */
        "CREATE TABLE ec2_imds_tokens (\n"
        "    token       TEXT PRIMARY KEY,\n"
        "    instance_id TEXT NOT NULL,\n"
        "    expires_ms  INTEGER NOT NULL\n"
        ");\n";
