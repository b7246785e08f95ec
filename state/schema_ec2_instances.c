/*
 * Migration: the EC2 instances tables. Schema statements only; the data access is in
 * state/ec2_instances.c.
 */
#include "../emulator/common.h"

const char schema_ec2_instances[] = "SELECT 1;\n";
