/*
 * EC2: the operation table and the handlers of the EC2 API (ec2 protocol, 2016-11-15).
 * See emulator/service.h for the checklist of adding an operation.
 */
#ifndef FB_SERVICES_EC2_H
#define FB_SERVICES_EC2_H

#include "emulator/service.h"

extern const struct service ec2_service;

/* The regions fogbank reports, and the three fake zones of each. */
struct ec2_region {
    const char *name;    /* "us-east-1" */
    const char *zone_id; /* AZ-id prefix, "use1" */
};
const struct ec2_region *ec2_region_get(const char *name);

int ec2_describe_availability_zones(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err);
int ec2_describe_regions(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);

#endif
