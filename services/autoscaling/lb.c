/*
 * The one place Auto Scaling meets load balancers (services/elb/api.h): registering an
 * instance with the group's Classic Load Balancers when it comes into service, deregistering
 * it before it leaves, reading the balancers' health verdict for HealthCheckType ELB, and
 * checking the names a group is given; and the group-side operations on its balancers
 * (Attach/Detach/DescribeLoadBalancers). Target groups (TargetGroupARNs) are stored and
 * described only. A balancer that fails a registration is logged and skipped: the instance
 * still serves the group, as on AWS, where the attachment reports the failure separately.
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"

#include "emulator/app.h"
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

/* ---- AttachLoadBalancers, DetachLoadBalancers, DescribeLoadBalancers ---- */

/* The names a call gives (1 to 10, as the API reference says), or -1 with a ValidationError. */
static int
names_given(const cJSON *in, const cJSON **names, struct aws_err *err)
{
    *names = cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerNames");
    int n = cJSON_GetArraySize(*names);
    if (n < 1 || n > 10)
        /* [UNVERIFIED wording] */
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "LoadBalancerNames must name between 1 and 10 load balancers; %d "
                           "given.",
                           n);
    return 0;
}

static bool
has_name(const cJSON *names, const char *name)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return true;
    }
    return false;
}

/* The group's instances that serve traffic (InService), into a new array. */
static int
serving(struct aws_call *call, const struct asg_group_rec *g, struct asg_inst_rec **out, size_t *n,
        struct aws_err *err)
{
    if (asg_store_list_insts(call->app->db, call->region, g->name, out, n) < 0)
        return asg_db_failed(err);
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*out)[i].state, "InService") == 0) {
            if (kept != i) {
                struct asg_inst_rec tmp = (*out)[kept];
                (*out)[kept] = (*out)[i];
                (*out)[i] = tmp;
            }
            kept++;
        }
    }
    /* The others stay in the array (freed with it) past the count the caller sees. */
    for (size_t i = kept; i < *n; i++)
        asg_inst_rec_release(&(*out)[i]);
    *n = kept;
    return 0;
}

/* Stores `names` as the group's LoadBalancerNames. */
static int
names_save(struct aws_call *call, struct asg_group_rec *g, const cJSON *names, struct aws_err *err)
{
    free(g->lbs);
    g->lbs = cJSON_PrintUnformatted(names);
    if (!g->lbs || asg_store_put_group(call->app->db, g) < 0)
        return asg_db_failed(err);
    return 0;
}

/*
 * AttachLoadBalancers: the names join the group's LoadBalancerNames, and the group's
 * InService instances are registered with each at once (later ones as they come into
 * service, as for a group created with the names).
 */
int
autoscaling_attach_load_balancers(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err)
{
    (void)out;
    const cJSON *given;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    struct asg_inst_rec *insts = NULL;
    size_t n_insts = 0;
    cJSON *names = NULL;
    int ret = -1;
    if (names_given(in, &given, err) < 0 ||
        asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0 ||
        asg_lb_check(call, given, err) < 0 || serving(call, &g, &insts, &n_insts, err) < 0)
        goto out;
    names = names_of(&g);
    const cJSON *n;
    cJSON_ArrayForEach(n, given)
    {
        if (has_name(names, n->valuestring))
            continue;
        cJSON_AddItemToArray(names, cJSON_CreateString(n->valuestring));
        for (size_t i = 0; i < n_insts; i++) {
            struct aws_err e;
            aws_err_clear(&e);
            if (elb_api_register(call, n->valuestring, insts[i].id, &e) < 0) {
                *err = e;
                goto out;
            }
        }
    }
    if (names_save(call, &g, names, err) < 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(names);
    asg_inst_recs_free(insts, n_insts);
    asg_group_rec_release(&g);
    return ret;
}

/*
 * DetachLoadBalancers: the names leave the group's LoadBalancerNames and its instances are
 * deregistered from each (the load balancer drains their connections when draining is on).
 * A name the group does not have is no error.
 */
int
autoscaling_detach_load_balancers(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err)
{
    (void)out;
    const cJSON *given;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    struct asg_inst_rec *insts = NULL;
    size_t n_insts = 0;
    cJSON *names = NULL, *kept = cJSON_CreateArray();
    int ret = -1;
    if (names_given(in, &given, err) < 0 ||
        asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0 ||
        asg_store_list_insts(call->app->db, call->region, g.name, &insts, &n_insts) < 0)
        goto out;
    names = names_of(&g);
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_IsString(n))
            continue;
        if (!has_name(given, n->valuestring)) {
            cJSON_AddItemToArray(kept, cJSON_CreateString(n->valuestring));
            continue;
        }
        for (size_t i = 0; i < n_insts; i++) {
            struct aws_err e;
            aws_err_clear(&e);
            int64_t drain_ms = 0;
            if (elb_api_in_service(call, n->valuestring, insts[i].id) >= 0 &&
                elb_api_deregister(call, n->valuestring, insts[i].id, &drain_ms, &e) < 0)
                log_error("autoscaling: %s: deregistering %s from %s: %s", g.name, insts[i].id,
                          n->valuestring, e.message);
        }
    }
    if (names_save(call, &g, kept, err) < 0)
        goto out;
    ret = 0;
out:
    cJSON_Delete(kept);
    cJSON_Delete(names);
    asg_inst_recs_free(insts, n_insts);
    asg_group_rec_release(&g);
    return ret;
}

/*
 * The state of one of the group's load balancers, from what it holds now: Adding until
 * every InService instance of the group is registered with it, then InService once one of
 * them passes its health check when the group uses ELB health checks, else Added.
 */
static const char *
lb_state(struct aws_call *call, const struct asg_group_rec *g, const char *name,
         const struct asg_inst_rec *insts, size_t n)
{
    bool all = true, one_healthy = false;
    for (size_t i = 0; i < n; i++) {
        int v = elb_api_in_service(call, name, insts[i].id);
        all = all && v >= 0;
        one_healthy = one_healthy || v == 1;
    }
    if (!all)
        return "Adding";
    return strcmp(g->health_check_type, "ELB") == 0 && one_healthy ? "InService" : "Added";
}

int
autoscaling_describe_load_balancers(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    struct asg_inst_rec *insts = NULL;
    size_t n_insts = 0;
    cJSON *names = NULL, *all = cJSON_CreateArray();
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0 ||
        serving(call, &g, &insts, &n_insts, err) < 0)
        goto out;
    names = names_of(&g);
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_IsString(n))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "LoadBalancerName", n->valuestring);
        cJSON_AddStringToObject(o, "State", lb_state(call, &g, n->valuestring, insts, n_insts));
        cJSON_AddItemToArray(all, o);
    }
    ret = asg_page(all, in, out, "LoadBalancers", 100, 100, err);
    all = NULL; /* asg_page took it */
out:
    cJSON_Delete(all);
    cJSON_Delete(names);
    asg_inst_recs_free(insts, n_insts);
    asg_group_rec_release(&g);
    return ret;
}
