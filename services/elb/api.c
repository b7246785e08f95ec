/*
 * The internal API of the Classic Load Balancer (services/elb/api.h) for Auto Scaling and
 * Route53: plain calls inside the caller's transaction, sharing the handlers' code paths so
 * a registration through it is the same as one through the API.
 */
#include "emulator/common.h"
#include "services/elb/api.h"
#include "services/elb/elb_internal.h"
#include "emulator/app.h"

bool
elb_api_exists(struct aws_call *call, const char *name)
{
    struct elb_lb_row lb;
    return name && elb_store_lb_get(call->app->db, call->region, name, &lb) == 1;
}

int
elb_api_register(struct aws_call *call, const char *name, const char *instance_id,
                 struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, name, &lb, err) < 0)
        return -1;
    if (elb_register_one(call, &lb, instance_id, err) < 0)
        return -1;
    elb_dataplane_dirty(call->app);
    return 0;
}

int
elb_api_deregister(struct aws_call *call, const char *name, const char *instance_id,
                   int64_t *drain_ms, struct aws_err *err)
{
    struct elb_lb_row lb;
    int64_t ms = 0;
    if (drain_ms)
        *drain_ms = 0;
    if (elb_lb_load(call, name, &lb, err) < 0)
        return -1;
    if (elb_deregister_one(call, &lb, instance_id, &ms, err) < 0)
        return -1;
    if (drain_ms)
        *drain_ms = ms;
    elb_dataplane_dirty(call->app);
    return 0;
}

int
elb_api_in_service(struct aws_call *call, const char *name, const char *instance_id)
{
    struct elb_lb_row lb;
    struct elb_instance_row row;
    if (!name || !instance_id || elb_store_lb_get(call->app->db, call->region, name, &lb) != 1)
        return -1;
    if (elb_store_instance_get(call->app->db, call->region, name, instance_id, &row) != 1 ||
        !row.registered)
        return -1;
    struct elb_verdict v;
    if (elb_verdict_of(call, &lb, &row, &v) < 0)
        return -1;
    return strcmp(v.state, "InService") == 0 ? 1 : 0;
}

/* The load balancer whose DNS name is dns_name (any region): 1 (out filled), 0, -1. */
static int
lb_by_dns(struct aws_call *call, const char *dns_name, struct elb_lb_row *out)
{
    if (!dns_name)
        return 0;
    char want[256];
    size_t len = strlen(dns_name);
    if (len && dns_name[len - 1] == '.')
        len--;
    if (len >= sizeof(want))
        return 0;
    memcpy(want, dns_name, len);
    want[len] = '\0';
    /* Route53 names alias targets as "dualstack.<dns name>" too. */
    const char *name = want;
    if (strncasecmp(name, "dualstack.", strlen("dualstack.")) == 0)
        name += strlen("dualstack.");
    return elb_store_lb_get_by_dns(call->app->db, name, out);
}

int
elb_api_find_by_dns(struct aws_call *call, const char *dns_name, char *name_out, size_t name_sz)
{
    struct elb_lb_row lb;
    int found = lb_by_dns(call, dns_name, &lb);
    if (found != 1)
        return found;
    snprintf(name_out, name_sz, "%s", lb.name);
    return 1;
}

int
elb_api_in_service_count_by_dns(struct aws_call *call, const char *dns_name)
{
    struct elb_lb_row lb;
    if (lb_by_dns(call, dns_name, &lb) != 1)
        return -1;
    /* The verdicts are those of the balancer's own region. */
    struct aws_call in_region = *call;
    in_region.region = lb.region;
    struct elb_instance_row *rows = NULL;
    size_t n = 0;
    if (elb_store_instance_list(call->app->db, lb.region, lb.name, &rows, &n) < 0)
        return -1;
    int count = 0;
    for (size_t i = 0; i < n && count >= 0; i++) {
        struct elb_verdict v;
        if (elb_verdict_of(&in_region, &lb, &rows[i], &v) < 0)
            count = -1;
        else if (v.routable)
            count++;
    }
    free(rows);
    return count;
}
