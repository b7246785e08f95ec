/*
 * What other services may ask of EC2, as plain C calls (DESIGN.md: services talk to each
 * other through small internal APIs, never over HTTP). Auto Scaling launches and
 * terminates through it, the load balancer finds an instance's host ports and health here.
 * Every function runs on the loop thread inside the caller's open transaction (an API
 * handler's, or one a timer callback opened with db_begin) and never opens its own.
 */
#ifndef FB_SERVICES_EC2_API_H
#define FB_SERVICES_EC2_API_H

#include "emulator/common.h"
#include "emulator/aws_err.h"
#include "emulator/service.h"

#include <cjson/cJSON.h>

/* A snapshot of one instance, as other services need it. */
struct ec2_api_instance {
    char id[32];            /* i-... */
    char region[32];        /* us-east-1 */
    char az[32];            /* us-east-1a */
    char subnet_id[32];     /* subnet-... */
    char vpc_id[32];        /* vpc-... */
    char image_id[32];      /* ami-... */
    char instance_type[32]; /* t3.micro */
    char private_ip[24];    /* 172.31.0.4 */
    int state_code;         /* AWS InstanceState.Code: 0 pending, 16 running, 32, 48, 64, 80 */
    const char *state_name; /* "pending", "running", ...; static */
    int64_t launch_ms;      /* LaunchTime, virtual ms */
    bool impaired;          /* running, but a status check fails: its tree is dead or hung
                               (fault kill/hang, a crash) or its zone is down */
};

/*
 * RunInstances for another service: `req` is a tree shaped like RunInstances' input
 * (ImageId, InstanceType, MinCount, MaxCount, Placement.AvailabilityZone, SubnetId,
 * UserData, LaunchTemplate, TagSpecifications, SecurityGroupIds, KeyName,
 * IamInstanceProfile, ...), validated as the API validates it; `out` (an empty object)
 * receives RunInstances' output (ReservationId, Instances[] with InstanceId, Placement, ...).
 * The instances boot on the next loop pass, as after the API call. -1 + err with the
 * error RunInstances would answer (InsufficientInstanceCapacity in a zone that is down,
 * InstanceLimitExceeded, InvalidAMIID.NotFound, ...), nothing created.
 */
int ec2_api_run_instances(struct aws_call *call, const cJSON *req, cJSON *out, struct aws_err *err);

/*
 * TerminateInstances of one instance. An instance already shutting-down or terminated, or
 * one that no longer exists, is not an error (0): the caller wanted it gone. -1 + err
 * (OperationNotPermitted when termination protection is on).
 */
int ec2_api_terminate(struct aws_call *call, const char *id, struct aws_err *err);

/* The instance `id` (any region) into *out: 1 found, 0 unknown (or expired), -1 db failure. */
int ec2_api_instance_get(struct aws_call *call, const char *id, struct ec2_api_instance *out);

/*
 * The loopback host port that instance port `instance_port` of instance `id` is mapped to;
 * when none is mapped and `create` is true, maps a free one (kept in the instance's port
 * map, shown by `fogbank ctl status`). 0 when there is none (unknown instance, or none and
 * !create), -1 on failure.
 */
int ec2_api_host_port(struct aws_call *call, const char *id, int instance_port, bool create);

/*
 * True while the fault "health-fail" is on instance `id` (`fogbank ctl fault health-fail
 * ID`): every load-balancer health check of it and every request proxied to it answers 500
 * until `fault clear`.
 */
bool ec2_api_health_fail(struct aws_call *call, const char *id);

/* True when `az` is a zone of the call's region and is not failed (fault az-down). */
bool ec2_api_zone_up(struct aws_call *call, const char *az);

/*
 * Sets tag key=value on instance `id` of the call's region without CreateTags' checks: the
 * tags AWS itself writes (Auto Scaling's "aws:autoscaling:groupName", whose "aws:" prefix
 * CreateTags refuses to users). 0, or -1 on a database failure (logged).
 */
int ec2_api_tag_put(struct aws_call *call, const char *id, const char *key, const char *value);

/*
 * Checks that a LaunchTemplate specification {LaunchTemplateId | LaunchTemplateName, Version}
 * names an existing template and version of the call's region, as RunInstances would
 * resolve it. 0, or -1 + err with RunInstances' error (InvalidLaunchTemplateId.NotFound,
 * InvalidLaunchTemplateName.NotFoundException, InvalidLaunchTemplateId.VersionNotFound).
 */
int ec2_api_launch_template_check(struct aws_call *call, const cJSON *spec, struct aws_err *err);

/* The zone of subnet `id` of the call's region into az (32 bytes): 0, or -1 + err
   (InvalidSubnetID.NotFound / .Malformed, as the EC2 API answers). */
int ec2_api_subnet_zone(struct aws_call *call, const char *id, char *az, struct aws_err *err);

#endif
