/*
 * Migration: the EC2 images tables (AMIs, launch templates and their versions). Schema
 * statements only; the data access is in state/ec2_images.c.
 */
#include "../emulator/common.h"

const char schema_ec2_images[] =
        /* One row per AMI of a region. A deregistered image keeps its row (state
           'deregistered') because instances launched from it, and images made from those
           instances, still stack on its layer; it is invisible to the API. */
        "CREATE TABLE ec2_images (\n"
        "    id                  TEXT PRIMARY KEY,      -- ami-...\n"
        "    region              TEXT NOT NULL,\n"
        "    name                TEXT NOT NULL,\n"
        "    description         TEXT,                  -- NULL: none given\n"
        "    location            TEXT NOT NULL,         -- ImageLocation as reported\n"
        "    owner_id            TEXT NOT NULL,         -- account id, 137112412989 for amazon\n"
        "    owner_alias         TEXT,                  -- 'amazon' for built-ins, else NULL\n"
        "    state               TEXT NOT NULL,         -- pending|available|deregistered\n"
        "    architecture        TEXT NOT NULL,\n"
        "    root_device_name    TEXT NOT NULL,\n"
        "    block_devices       TEXT NOT NULL,         -- BlockDeviceMappings, JSON\n"
        "    ena_support         INTEGER NOT NULL,\n"
        "    public              INTEGER NOT NULL,\n"
        "    layer_dir           TEXT,                  -- relative to the data dir; NULL: empty\n"
        "    parent_id           TEXT REFERENCES ec2_images (id),  -- next image of the stack\n"
        "    depth               INTEGER NOT NULL,      -- layer directories in the whole stack\n"
        "    boot_script         TEXT NOT NULL,         -- path inside the image\n"
        "    source_instance_id  TEXT,                  -- CreateImage's instance\n"
        "    builtin             INTEGER NOT NULL DEFAULT 0,\n"
        "    created_ms          INTEGER NOT NULL,\n"
        "    deregistered_ms     INTEGER\n"
        ");\n"
        "CREATE INDEX ec2_images_region ON ec2_images (region, created_ms, id);\n"
        /* AMI names are unique per account and region among live images: "AMI name x is
           already in use by AMI ami-..." (InvalidAMIName.Duplicate). */
        "CREATE UNIQUE INDEX ec2_images_name ON ec2_images (region, owner_id, name)\n"
        "    WHERE state != 'deregistered';\n"
        /* Launch template names are unique per account and region. */
        "CREATE TABLE ec2_launch_templates (\n"
        "    id               TEXT PRIMARY KEY,         -- lt-...\n"
        "    region           TEXT NOT NULL,\n"
        "    name             TEXT NOT NULL,\n"
        "    default_version  INTEGER NOT NULL,\n"
        "    next_version     INTEGER NOT NULL,         -- numbers are never reused\n"
        "    created_by       TEXT NOT NULL,            -- arn:aws:iam::<account>:root\n"
        "    created_ms       INTEGER NOT NULL,\n"
        "    UNIQUE (region, name)\n"
        ");\n"
        "CREATE TABLE ec2_launch_template_versions (\n"
        "    template_id  TEXT NOT NULL REFERENCES ec2_launch_templates (id) ON DELETE CASCADE,\n"
        "    version      INTEGER NOT NULL,\n"
        "    description  TEXT,                         -- NULL: none given\n"
        "    data         TEXT NOT NULL,                -- RequestLaunchTemplateData, JSON\n"
        "    created_by   TEXT NOT NULL,\n"
        "    created_ms   INTEGER NOT NULL,\n"
        "    PRIMARY KEY (template_id, version)\n"
        ");\n";
