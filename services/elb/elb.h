/*
 * Classic Elastic Load Balancing (query protocol, 2012-06-01): the service row and the
 * handlers of its operation table. See emulator/service.h for the checklist of adding an
 * operation.
 */
#ifndef FB_SERVICES_ELB_H
#define FB_SERVICES_ELB_H

#include "emulator/service.h"

extern const struct service elb_service;

/* lb.c: load balancers, listeners, zones, subnets, attributes, tags, limits */
int elb_add_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int elb_attach_load_balancer_to_subnets(struct aws_call *call, const cJSON *in, cJSON *out,
                                        struct aws_err *err);
int elb_create_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err);
int elb_create_load_balancer_listeners(struct aws_call *call, const cJSON *in, cJSON *out,
                                       struct aws_err *err);
int elb_delete_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err);
int elb_delete_load_balancer_listeners(struct aws_call *call, const cJSON *in, cJSON *out,
                                       struct aws_err *err);
int elb_describe_account_limits(struct aws_call *call, const cJSON *in, cJSON *out,
                                struct aws_err *err);
int elb_describe_load_balancer_attributes(struct aws_call *call, const cJSON *in, cJSON *out,
                                          struct aws_err *err);
int elb_describe_load_balancers(struct aws_call *call, const cJSON *in, cJSON *out,
                                struct aws_err *err);
int elb_describe_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int elb_detach_load_balancer_from_subnets(struct aws_call *call, const cJSON *in, cJSON *out,
                                          struct aws_err *err);
int elb_disable_availability_zones_for_load_balancer(struct aws_call *call, const cJSON *in,
                                                     cJSON *out, struct aws_err *err);
int elb_enable_availability_zones_for_load_balancer(struct aws_call *call, const cJSON *in,
                                                    cJSON *out, struct aws_err *err);
int elb_modify_load_balancer_attributes(struct aws_call *call, const cJSON *in, cJSON *out,
                                        struct aws_err *err);
int elb_remove_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);

/* instances.c: health checks and registrations */
int elb_configure_health_check(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err);
int elb_deregister_instances_from_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                                                struct aws_err *err);
int elb_describe_instance_health(struct aws_call *call, const cJSON *in, cJSON *out,
                                 struct aws_err *err);
int elb_register_instances_with_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                                              struct aws_err *err);

#endif
