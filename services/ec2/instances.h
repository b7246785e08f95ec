/*
 * What instances.c and imds.c give the rest of the EC2 service: the service hooks that own
 * the instances' process trees (start, stop, reset, status, faults and port actions) and the
 * instance metadata service route. Nothing outside services/ec2/ includes this.
 */
#ifndef FB_SERVICES_EC2_INSTANCES_H
#define FB_SERVICES_EC2_INSTANCES_H

#include "emulator/common.h"
#include "emulator/service.h"
#include "emulator/wire.h"

/* The prefix of the instance metadata service: /_imds/<instance id>/latest/... */
#define EC2_IMDS_PREFIX "/_imds/"

/* The running-instance limit when --instance-limit is not given (InstanceLimitExceeded). */
#define EC2_DEFAULT_INSTANCE_LIMIT 64

/* service_hooks members (see emulator/service.h for when each runs). */
int ec2_instances_start(struct app *app, char *errbuf, size_t errsz);
void ec2_instances_reset(struct app *app);
void ec2_instances_stop(struct app *app);
void ec2_instances_status(struct app *app, cJSON *out);
int ec2_instances_action(struct aws_call *call, const char *kind, const cJSON *in, cJSON *out,
                         struct aws_err *err);

/* GET/PUT under EC2_IMDS_PREFIX (imds.c). */
void ec2_imds_route(struct aws_call *call, const struct http_req *req, const char *path,
                    struct http_resp *resp);

/* "i-..." well-formed and existing: the same checks as the API; used by imds.c. */
const char *ec2_instance_state_name(int code);

#endif
