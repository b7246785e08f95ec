/*
 * Route53: the operation table and the handlers of the Route53 API (rest-xml, 2013-04-01),
 * plus the hooks that run its DNS server and health checks. See emulator/service.h for the
 * checklist of adding an operation.
 */
#ifndef FB_SERVICES_ROUTE53_H
#define FB_SERVICES_ROUTE53_H

#include "emulator/service.h"

extern const struct service route53_service;

/* zones.c: hosted zones, changes, tags */
int r53_change_tags_for_resource(struct aws_call *call, const cJSON *in, cJSON *out,
                                 struct aws_err *err);
int r53_create_hosted_zone(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int r53_delete_hosted_zone(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int r53_get_change(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int r53_get_hosted_zone(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int r53_get_hosted_zone_count(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err);
int r53_list_hosted_zones(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int r53_list_hosted_zones_by_name(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err);
int r53_list_tags_for_resource(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err);
int r53_update_hosted_zone_comment(struct aws_call *call, const cJSON *in, cJSON *out,
                                   struct aws_err *err);

/* records.c: record sets */
int r53_change_resource_record_sets(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err);
int r53_list_resource_record_sets(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err);

/* health.c: health checks */
int r53_create_health_check(struct aws_call *call, const cJSON *in, cJSON *out,
                            struct aws_err *err);
int r53_delete_health_check(struct aws_call *call, const cJSON *in, cJSON *out,
                            struct aws_err *err);
int r53_get_health_check(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
int r53_get_health_check_status(struct aws_call *call, const cJSON *in, cJSON *out,
                                struct aws_err *err);
int r53_list_health_checks(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);

#endif
