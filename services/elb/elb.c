/*
 * The Classic Load Balancer service: its operation table, its hooks (start, reset, stop, the
 * status view) and the look-ups every handler shares. Handlers are in lb.c and instances.c,
 * the health checks in instances.c and probe.c, the data plane in proxy.c.
 */
#include "emulator/common.h"
#include "services/elb/elb.h"
#include "services/elb/elb_internal.h"
#include "emulator/app.h"
#include "emulator/clock.h"
#include "state/db.h"

static const struct service_op elb_ops[] = {
    { "AddTags", elb_add_tags, 0 },
    { "AttachLoadBalancerToSubnets", elb_attach_load_balancer_to_subnets, 0 },
    { "ConfigureHealthCheck", elb_configure_health_check, 0 },
    { "CreateLoadBalancer", elb_create_load_balancer, 0 },
    { "CreateLoadBalancerListeners", elb_create_load_balancer_listeners, 0 },
    { "DeleteLoadBalancer", elb_delete_load_balancer, 0 },
    { "DeleteLoadBalancerListeners", elb_delete_load_balancer_listeners, 0 },
    { "DeregisterInstancesFromLoadBalancer", elb_deregister_instances_from_load_balancer, 0 },
    { "DescribeAccountLimits", elb_describe_account_limits, OP_READONLY },
    { "DescribeInstanceHealth", elb_describe_instance_health, OP_READONLY },
    { "DescribeLoadBalancerAttributes", elb_describe_load_balancer_attributes, OP_READONLY },
    { "DescribeLoadBalancers", elb_describe_load_balancers, OP_READONLY },
    { "DescribeTags", elb_describe_tags, OP_READONLY },
    { "DetachLoadBalancerFromSubnets", elb_detach_load_balancer_from_subnets, 0 },
    { "DisableAvailabilityZonesForLoadBalancer", elb_disable_availability_zones_for_load_balancer,
      0 },
    { "EnableAvailabilityZonesForLoadBalancer", elb_enable_availability_zones_for_load_balancer,
      0 },
    { "ModifyLoadBalancerAttributes", elb_modify_load_balancer_attributes, 0 },
    { "RegisterInstancesWithLoadBalancer", elb_register_instances_with_load_balancer, 0 },
    { "RemoveTags", elb_remove_tags, 0 },
};

static int
elb_start(struct app *app, char *errbuf, size_t errsz)
{
    (void)errbuf;
    (void)errsz;
    elb_health_start(app);
    elb_dataplane_sync(app);
    return 0;
}

static void
elb_reset(struct app *app)
{
    elb_health_stop(app);
    elb_dataplane_stop(app);
}

static void
elb_stop(struct app *app)
{
    elb_health_stop(app);
    elb_dataplane_stop(app);
}

/* out.load_balancers = [{name, region, dns_name, listeners: [{load_balancer_port, protocol,
   instance_port, host_port}]}] */
static void
elb_status(struct app *app, cJSON *out)
{
    cJSON *list = cJSON_AddArrayToObject(out, "load_balancers");
    struct elb_lb_row *lbs = NULL;
    size_t n = 0;
    if (elb_store_lb_list(app->db, NULL, &lbs, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", lbs[i].name);
        cJSON_AddStringToObject(o, "region", lbs[i].region);
        cJSON_AddStringToObject(o, "dns_name", lbs[i].dns_name);
        cJSON *ls = cJSON_AddArrayToObject(o, "listeners");
        struct elb_listener_row *rows = NULL;
        size_t nl = 0;
        if (elb_store_listener_list(app->db, lbs[i].region, lbs[i].name, &rows, &nl) == 0) {
            for (size_t j = 0; j < nl; j++) {
                cJSON *l = cJSON_CreateObject();
                cJSON_AddNumberToObject(l, "load_balancer_port", rows[j].lb_port);
                cJSON_AddStringToObject(l, "protocol", rows[j].protocol);
                cJSON_AddNumberToObject(l, "instance_port", rows[j].instance_port);
                cJSON_AddNumberToObject(l, "host_port", rows[j].host_port);
                cJSON_AddItemToArray(ls, l);
            }
        }
        free(rows);
        cJSON_AddItemToArray(list, o);
    }
    free(lbs);
}

/*
 * POST /_fogbank/elb {"action": "pin", "load_balancer": NAME, "load_balancer_port": N,
 * "host_port": P[, "region": R]}: pins a listener to a loopback port of the user's choice
 * (the tag fogbank:host-port:N does the same through the API). Answers the listener as the
 * status shows it.
 */
static int
elb_action(struct aws_call *call, const char *kind, const cJSON *in, cJSON *out,
           struct aws_err *err)
{
    if (strcmp(kind, "elb") != 0)
        return 0;
    const char *action = elb_str(in, "action");
    if (!action || strcmp(action, "pin") != 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Unknown action '%s' for /_fogbank/elb (known: pin).",
                           action ? action : "");
    const char *name = elb_str(in, "load_balancer");
    const cJSON *lb_port = cJSON_GetObjectItemCaseSensitive(in, "load_balancer_port");
    const cJSON *host_port = cJSON_GetObjectItemCaseSensitive(in, "host_port");
    if (!name || !cJSON_IsNumber(lb_port) || !cJSON_IsNumber(host_port))
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "pin needs load_balancer (a name), load_balancer_port and host_port "
                           "(numbers).");
    struct elb_lb_row lb;
    if (elb_lb_load(call, name, &lb, err) < 0 ||
        elb_dataplane_pin(call, lb.name, lb_port->valueint, host_port->valueint, err) < 0)
        return -1;
    cJSON_AddStringToObject(out, "load_balancer", lb.name);
    cJSON_AddStringToObject(out, "region", lb.region);
    cJSON_AddStringToObject(out, "dns_name", lb.dns_name);
    cJSON_AddNumberToObject(out, "load_balancer_port", lb_port->valueint);
    cJSON_AddNumberToObject(out, "host_port", host_port->valueint);
    return 1;
}

static const struct service_hooks elb_hooks = {
    .start = elb_start,
    .reset = elb_reset,
    .stop = elb_stop,
    .status = elb_status,
    .action = elb_action,
};

const struct service elb_service = { "elb", elb_ops, ARRAY_SIZE(elb_ops), &elb_hooks };

int
elb_db_failed(struct aws_err *err)
{
    return aws_err_set(err, AWS_E_INTERNAL_ERROR, "An internal error has occurred.");
}

int
elb_lb_load(struct aws_call *call, const char *name, struct elb_lb_row *out, struct aws_err *err)
{
    int found = elb_store_lb_get(call->app->db, call->region, name ? name : "", out);
    if (found < 0)
        return elb_db_failed(err);
    if (found == 0)
        return aws_err_setx(err, 400, "LoadBalancerNotFound", true,
                            "There is no ACTIVE Load Balancer named '%s'", name ? name : "");
    return 0;
}

const char *
elb_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
elb_internal_call(struct app *app, const char *region, struct aws_call *call)
{
    memset(call, 0, sizeof(*call));
    call->app = app;
    call->service = "elb";
    call->op = "fogbank-internal";
    call->region = region;
    call->account_id = app->cfg.account_id ? app->cfg.account_id : "123456789012";
    call->request_id = "";
    call->now_ms = vclock_now(app->clock);
}
