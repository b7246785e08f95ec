/*
 * The internal EC2 API (api.h): what Auto Scaling and the load balancers ask of EC2, made of
 * the same handlers and store the EC2 API uses, so a launch or termination from another
 * service follows exactly the rules (validation, the lifecycle table, faults, limits) of the
 * API call. It opens no transaction and never touches processes itself.
 */
#include "emulator/common.h"
#include "services/ec2/api.h"

#include "emulator/app.h"
#include "emulator/instances/sup.h"
#include "services/ec2/ec2.h"
#include "services/ec2/ec2_internal.h"
#include "services/ec2/instances.h"
#include "state/ec2_instances.h"
#include "state/ec2_network.h"

/* The call as EC2 sees it: same app, region, account and now; EC2's service name and the
   operation being performed, for logs. */
static struct aws_call
as_ec2_call(const struct aws_call *call, const char *op)
{
    struct aws_call c = *call;
    c.service = "ec2";
    c.op = op;
    return c;
}

int
ec2_api_run_instances(struct aws_call *call, const cJSON *req, cJSON *out, struct aws_err *err)
{
    struct aws_call c = as_ec2_call(call, "RunInstances");
    return ec2_run_instances(&c, req, out, err);
}

int
ec2_api_terminate(struct aws_call *call, const char *id, struct aws_err *err)
{
    struct aws_call c = as_ec2_call(call, "TerminateInstances");
    cJSON *in = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(in, "InstanceIds");
    cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    cJSON *out = cJSON_CreateObject();
    struct aws_err e;
    aws_err_clear(&e);
    int rc = ec2_terminate_instances(&c, in, out, &e);
    cJSON_Delete(in);
    cJSON_Delete(out);
    /* Gone already (expired, or never there): the caller wanted it gone. */
    if (rc < 0 && strcmp(e.code, "InvalidInstanceID.NotFound") != 0) {
        *err = e;
        return -1;
    }
    return 0;
}

int
ec2_api_instance_get(struct aws_call *call, const char *id, struct ec2_api_instance *out)
{
    struct app *app = call->app;
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int found = ec2_store_get_instance(app->db, NULL, id, &r);
    if (found == 1) {
        memset(out, 0, sizeof(*out));
        snprintf(out->id, sizeof(out->id), "%s", r.id);
        snprintf(out->region, sizeof(out->region), "%s", r.region);
        snprintf(out->az, sizeof(out->az), "%s", r.az);
        snprintf(out->subnet_id, sizeof(out->subnet_id), "%s", r.subnet_id);
        snprintf(out->vpc_id, sizeof(out->vpc_id), "%s", r.vpc_id);
        snprintf(out->image_id, sizeof(out->image_id), "%s", r.image_id);
        snprintf(out->instance_type, sizeof(out->instance_type), "%s", r.instance_type);
        snprintf(out->private_ip, sizeof(out->private_ip), "%s", r.private_ip);
        out->state_code = r.state_code;
        out->state_name = ec2_instance_state_name(r.state_code);
        out->launch_ms = r.launch_ms;
        /* As DescribeInstanceStatus judges it: a running instance whose tree is dead or
           frozen, or whose zone is down, fails its status checks. Without a supervisor (unit
           tests of other services) the faults in force say it. */
        if (strcmp(out->state_name, "running") == 0) {
            bool dead = app->sup ? !sup_alive(app->sup, r.id) || sup_hung(app->sup, r.id)
                                 : ec2_store_has_fault(app->db, "kill", r.id) == 1 ||
                                           ec2_store_has_fault(app->db, "hang", r.id) == 1;
            out->impaired = dead || ec2_store_has_fault(app->db, "az-down", r.az) == 1;
        }
    }
    ec2_instance_rec_release(&r);
    return found;
}

int
ec2_api_host_port(struct aws_call *call, const char *id, int instance_port, bool create)
{
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int found = ec2_store_get_instance(call->app->db, NULL, id, &r);
    int port = found < 0 ? -1 : 0;
    if (found == 1) {
        cJSON *ports = cJSON_Parse(r.ports ? r.ports : "{}");
        char key[16];
        snprintf(key, sizeof(key), "%d", instance_port);
        const cJSON *host = cJSON_GetObjectItemCaseSensitive(ports, key);
        if (cJSON_IsNumber(host))
            port = host->valueint;
        cJSON_Delete(ports);
    }
    ec2_instance_rec_release(&r);
    if (port != 0 || !create || found != 1)
        return port;
    /* Map one as `POST /_fogbank/ports` does, so the map and its bookkeeping stay in one
       place. */
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "instance_id", id);
    cJSON_AddNumberToObject(in, "port", instance_port);
    cJSON *out = cJSON_CreateObject();
    struct aws_err err;
    aws_err_clear(&err);
    if (ec2_instances_action(call, "ports", in, out, &err) == 1) {
        const cJSON *host = cJSON_GetObjectItemCaseSensitive(out, "host_port");
        port = cJSON_IsNumber(host) ? host->valueint : -1;
    } else {
        port = -1;
    }
    cJSON_Delete(in);
    cJSON_Delete(out);
    return port;
}

bool
ec2_api_health_fail(struct aws_call *call, const char *id)
{
    return ec2_store_has_fault(call->app->db, "health-fail", id) == 1;
}

bool
ec2_api_zone_up(struct aws_call *call, const char *az)
{
    size_t rl = strlen(call->region);
    if (!az || strncmp(az, call->region, rl) != 0 || strlen(az) != rl + 1 || az[rl] < 'a' ||
        az[rl] > 'c' || !ec2_region_get(call->region))
        return false;
    return ec2_store_has_fault(call->app->db, "az-down", az) == 0;
}

int
ec2_api_tag_put(struct aws_call *call, const char *id, const char *key, const char *value)
{
    return ec2_store_tag_put(call->app->db, call->region, id, "instance", key, value);
}

int
ec2_api_launch_template_check(struct aws_call *call, const cJSON *spec, struct aws_err *err)
{
    cJSON *data = NULL;
    int rc = ec2_launch_template_resolve(call, spec, &data, err);
    cJSON_Delete(data);
    return rc;
}

int
ec2_api_subnet_zone(struct aws_call *call, const char *id, char *az, struct aws_err *err)
{
    struct ec2_subnet_info info;
    memset(&info, 0, sizeof(info));
    if (ec2_subnet_get(call, id, &info, err) < 0)
        return -1;
    snprintf(az, 32, "%s", info.az);
    return 0;
}
