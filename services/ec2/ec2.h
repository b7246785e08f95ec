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

/* network.c, tags.c: VPCs, subnets, security groups, key pairs, tags */
int ec2_authorize_security_group_egress(struct aws_call *call, const cJSON *in, cJSON *out,
                                        struct aws_err *err);
int ec2_authorize_security_group_ingress(struct aws_call *call, const cJSON *in, cJSON *out,
                                         struct aws_err *err);
int ec2_create_key_pair(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_create_security_group(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err);
int ec2_create_subnet(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_create_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_create_vpc(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_delete_key_pair(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_delete_security_group(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err);
int ec2_delete_subnet(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_delete_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_delete_vpc(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_describe_key_pairs(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_describe_security_groups(struct aws_call *call, const cJSON *in, cJSON *out,
                                 struct aws_err *err);
int ec2_describe_subnets(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_describe_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_describe_vpcs(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_import_key_pair(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_revoke_security_group_egress(struct aws_call *call, const cJSON *in, cJSON *out,
                                     struct aws_err *err);
int ec2_revoke_security_group_ingress(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err);

/* images.c, templates.c: AMIs and launch templates */
int ec2_create_launch_template(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err);
int ec2_create_launch_template_version(struct aws_call *call, const cJSON *in, cJSON *out,
                                       struct aws_err *err);
int ec2_delete_launch_template(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err);
int ec2_delete_launch_template_versions(struct aws_call *call, const cJSON *in, cJSON *out,
                                        struct aws_err *err);
int ec2_deregister_image(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_describe_images(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_describe_launch_template_versions(struct aws_call *call, const cJSON *in, cJSON *out,
                                          struct aws_err *err);
int ec2_describe_launch_templates(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err);
int ec2_modify_launch_template(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err);
int ec2_register_image(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);

/* instances.c: instances */
int ec2_create_image(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_describe_instance_attribute(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err);
int ec2_describe_instance_status(struct aws_call *call, const cJSON *in, cJSON *out,
                                 struct aws_err *err);
int ec2_describe_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_get_console_output(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_modify_instance_attribute(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err);
int ec2_reboot_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_run_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_start_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_stop_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int ec2_terminate_instances(struct aws_call *call, const cJSON *in, cJSON *out,
                            struct aws_err *err);

#endif
