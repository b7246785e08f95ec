/*
 * The one place Auto Scaling meets load balancers (services/elb/api.h): registering an
 * instance with the group's Classic Load Balancers when it comes into service, deregistering
 * it before it leaves, reading the balancers' health verdict for HealthCheckType ELB, and
 * checking the names a group is given. Target groups (TargetGroupARNs) are stored and
 * described only. A balancer that fails a registration is logged and skipped: the instance
 * still serves the group, as on AWS, where the attachment reports the failure separately.
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"

#include "emulator/log.h"
#include "services/elb/api.h"

/* The group's LoadBalancerNames as a new array (empty when none). */
static cJSON *
names_of(const struct asg_group_rec *g)
{
    cJSON *names = cJSON_Parse(g->lbs ? g->lbs : "[]");
    return names ? names : cJSON_CreateArray();
}

void
asg_lb_register(struct aws_call *call, const struct asg_group_rec *g, const char *id)
{
    cJSON *names = names_of(g);
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        struct aws_err err;
        aws_err_clear(&err);
        if (cJSON_IsString(n) && elb_api_register(call, n->valuestring, id, &err) < 0)
            log_error("autoscaling: %s: registering %s with %s: %s", g->name, id, n->valuestring,
                      err.message);
    }
    cJSON_Delete(names);
}

void
asg_lb_deregister(struct aws_call *call, const struct asg_group_rec *g, const char *id,
                  int64_t *drain_ms)
{
    *drain_ms = 0;
    cJSON *names = names_of(g);
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        struct aws_err err;
        aws_err_clear(&err);
        int64_t ms = 0;
        if (!cJSON_IsString(n))
            continue;
        if (elb_api_deregister(call, n->valuestring, id, &ms, &err) < 0)
            log_error("autoscaling: %s: deregistering %s from %s: %s", g->name, id, n->valuestring,
                      err.message);
        else if (ms > *drain_ms)
            *drain_ms = ms;
    }
    cJSON_Delete(names);
}

bool
asg_lb_healthy(struct aws_call *call, const struct asg_group_rec *g, const char *id)
{
    cJSON *names = names_of(g);
    bool healthy = true;
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        /* -1 (not registered, or no such balancer) is no verdict: only OutOfService counts. */
        if (cJSON_IsString(n) && elb_api_in_service(call, n->valuestring, id) == 0)
            healthy = false;
    }
    cJSON_Delete(names);
    return healthy;
}

int
asg_lb_check(struct aws_call *call, const cJSON *names, struct aws_err *err)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_IsString(n) || !elb_api_exists(call, n->valuestring))
            /* [UNVERIFIED wording] */
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Provided Load Balancers may not be valid. Please ensure they "
                               "exist and try again. LoadBalancer %s not found",
                               cJSON_IsString(n) ? n->valuestring : "");
    }
    return 0;
}
