/*
 * Migration: the EC2 images tables. Schema statements only; the data access is in
 * state/ec2_images.c.
 */
#include "../emulator/common.h"

const char schema_ec2_images[] = "SELECT 1;\n";
