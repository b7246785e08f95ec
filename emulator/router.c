/*
 * The router: from an HTTP request to an HTTP response. It names the service, hands
 * /_fogbank/ to the control API, and runs an API call through the protocol layer and the
 * service's operation table inside one transaction. It knows no service and no wire format
 * beyond what the protocol layer and the model index tell it.
 */
#include "common.h"
#include "router.h"

#include "app.h"
#include "clock.h"
#include "control.h"
#include "ids.h"
#include "log.h"
#include "model.h"
#include "protocol/protocol.h"
#include "service.h"
#include "state/db.h"

#define DEFAULT_REGION "us-east-1"
#define ROUTE53_PATH   "/2013-04-01/"

/* The SigV4 credential ("AKID/date/region/service/aws4_request") of a request, or NULL. */
static const char *
credential_of(const struct http_req *req, const struct params *params, size_t *len)
{
    const char *auth = http_req_header(req, "Authorization");
    const char *cred = NULL;
    if (auth && (cred = strstr(auth, "Credential=")) != NULL) {
        cred += strlen("Credential=");
        *len = strcspn(cred, ", ");
        return cred;
    }
    /* Presigned URLs carry the credential in the query string instead. */
    if (params && (cred = params_get(params, "X-Amz-Credential")) != NULL) {
        *len = strlen(cred);
        return cred;
    }
    return NULL;
}

/* Copies field `index` (0-based, '/'-separated) of the credential into out; false if absent. */
static bool
credential_field(const char *cred, size_t len, int index, char *out, size_t outsz)
{
    const char *p = cred, *end = cred + len;
    for (int i = 0; i < index; i++) {
        p = memchr(p, '/', (size_t)(end - p));
        if (!p)
            return false;
        p++;
    }
    const char *q = memchr(p, '/', (size_t)(end - p));
    size_t n = (size_t)((q ? q : end) - p);
    if (n == 0 || n >= outsz)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok)
            return false;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static void
region_from(const struct http_req *req, const struct params *params, char *out, size_t outsz)
{
    size_t len = 0;
    const char *cred = credential_of(req, params, &len);
    if (!cred || !credential_field(cred, len, 2, out, outsz))
        snprintf(out, outsz, "%s", DEFAULT_REGION);
}

void
router_region(const struct http_req *req, char *out, size_t outsz)
{
    region_from(req, NULL, out, outsz);
}

/* The service whose query-protocol API version is `version` and (if given) signing name. */
static const char *
service_by_version(const char *version, const char *signing_name)
{
    if (!version)
        return NULL;
    for (size_t i = 0; i < model_index_len; i++) {
        const struct model_info *mi = &model_index[i];
        bool query = strcmp(mi->protocol, "query") == 0 || strcmp(mi->protocol, "ec2") == 0;
        if (query && strcmp(mi->api_version, version) == 0 &&
            (!signing_name || strcmp(mi->signing_name, signing_name) == 0))
            return mi->name;
    }
    return NULL;
}

const char *
router_pick_service(const struct http_req *req, const struct params *params)
{
    const char *version = params ? params_get(params, "Version") : NULL;

    const char *target = http_req_header(req, "X-Amz-Target");
    if (target) {
        size_t plen = strcspn(target, ".");
        for (size_t i = 0; i < model_index_len; i++) {
            const char *tp = model_index[i].target_prefix;
            if (tp && strlen(tp) == plen && strncmp(tp, target, plen) == 0)
                return model_index[i].name;
        }
    }

    size_t len = 0;
    char signing[64];
    const char *cred = credential_of(req, params, &len);
    if (cred && credential_field(cred, len, 3, signing, sizeof(signing))) {
        /* ELB and ELBv2 share the signing name; their API versions tell them apart. */
        const char *by_version = service_by_version(version, signing);
        if (by_version)
            return by_version;
        for (size_t i = 0; i < model_index_len; i++)
            if (strcmp(model_index[i].signing_name, signing) == 0)
                return model_index[i].name;
    }

    if (str_starts(req->target, ROUTE53_PATH))
        return "route53";
    const char *by_version = service_by_version(version, NULL);
    return by_version ? by_version : "s3";
}

/* Splits the raw target into the decoded path and the raw query; -1 on a bad escape. */
static int
split_target(struct aws_request *areq)
{
    const char *t = areq->http->target ? areq->http->target : "/";
    size_t plen = strcspn(t, "?");
    areq->raw_path = t;
    areq->raw_query = t[plen] == '?' ? t + plen + 1 : "";
    struct buf path = BUF_INIT;
    int rc = url_decode(&path, t, plen);
    snprintf(areq->path, sizeof(areq->path), "%s", rc == 0 ? path.data : "/");
    if (rc == 0 && path.len >= sizeof(areq->path))
        rc = -1;
    buf_release(&path);
    return rc;
}

static bool
is_form_body(const struct http_req *req)
{
    const char *ct = http_req_header(req, "Content-Type");
    return ct && str_starts(ct, "application/x-www-form-urlencoded");
}

static void
answer_error(const struct protocol *proto, const struct aws_request *areq,
             const struct aws_err *err, struct http_resp *resp)
{
    /* Server faults deserve a log line; NotImplemented is an honest answer, not a fault. */
    if (err->status >= 500 && err->status != 501)
        log_error("request %s: %s %s: %s", areq->request_id, err->code,
                  areq->op_name ? areq->op_name : "-", err->message);
    proto->encode_error(areq, err, resp);
}

/* Runs one identified, decoded call in a transaction. */
static int
run_call(struct app *app, const struct aws_request *areq, const struct service_op *op,
         const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct aws_call call = {
        .app = app,
        .service = areq->service,
        .op = op->name,
        .region = areq->region,
        .account_id = app->cfg.account_id,
        .request_id = areq->request_id,
        .now_ms = vclock_now(app->clock),
    };
    if (db_begin(app->db, !(op->flags & OP_READONLY)) < 0)
        return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database is unavailable.");
    aws_err_clear(err);
    if (op->fn(&call, in, out, err) < 0) {
        db_rollback(app->db);
        if (!err->code)
            return aws_err_set(err, AWS_E_INTERNAL_ERROR,
                               "%s failed without saying why (a fogbank bug).", op->name);
        return -1;
    }
    if (db_commit(app->db) < 0) {
        db_rollback(app->db);
        return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database refused the change.");
    }
    return 0;
}

/* The query and ec2 protocols carry the API version in every request; it must be ours. */
static int
check_version(const struct aws_request *areq, const struct model_info *mi, struct aws_err *err)
{
    if (strcmp(mi->protocol, "query") != 0 && strcmp(mi->protocol, "ec2") != 0)
        return 0;
    const char *version = params_get(&areq->params, "Version");
    if (!version || !*version)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter Version");
    if (strcmp(version, mi->api_version) != 0)
        return aws_err_set(err, AWS_E_NO_SUCH_VERSION,
                           "The requested version (%s) of service %s does not exist", version,
                           mi->service_id);
    return 0;
}

static void
handle_api(struct app *app, const struct http_req *req, struct aws_request *areq,
           struct http_resp *resp)
{
    struct aws_err err;
    aws_err_clear(&err);
    int bad_query = params_parse(&areq->params, areq->raw_query, strlen(areq->raw_query));
    /* Query-protocol clients send their parameters (Action, Version) as a form body. */
    int bad_body = is_form_body(req) ? params_parse(&areq->params, req->body, req->body_len) : 0;
    const char *name = router_pick_service(req, &areq->params);
    char region[64];
    region_from(req, &areq->params, region, sizeof(region));
    areq->region = region;

    const struct model_info *mi;
    mi = model_info_get(name);
    const struct model *model = model_get(name);
    const struct protocol *proto = model ? protocol_for(model_protocol(model)) : NULL;
    const struct service *svc = service_get(name);
    if (!mi || !model || !proto || !svc)
        die("router: service %s has no model, protocol or table", name);
    areq->model = model;
    areq->service = name;
    snprintf(resp->service, sizeof(resp->service), "%s", name);

    if (bad_query < 0 || bad_body < 0) {
        aws_err_set(&err, AWS_E_MALFORMED_QUERY_STRING,
                    "The request contains a malformed query string or form body.");
        answer_error(proto, areq, &err, resp);
        return;
    }
    if (proto->identify(areq, &err) < 0 || check_version(areq, mi, &err) < 0) {
        answer_error(proto, areq, &err, resp);
        return;
    }
    snprintf(resp->op, sizeof(resp->op), "%s", areq->op_name);

    bool implemented = false;
    areq->op = model_op(model, areq->op_name, &implemented);
    if (!areq->op) {
        if (strcmp(mi->protocol, "json") == 0)
            aws_err_set(&err, AWS_E_UNKNOWN_OPERATION, "Unknown operation %s", areq->op_name);
        else
            aws_err_set(&err, AWS_E_INVALID_ACTION,
                        "The action %s is not valid for this web service.", areq->op_name);
        answer_error(proto, areq, &err, resp);
        return;
    }
    const struct service_op *op = implemented ? service_find_op(svc, areq->op_name) : NULL;
    if (!op) {
        aws_err_set(&err, AWS_E_NOT_IMPLEMENTED,
                    "fogbank does not implement the %s operation %s yet.", mi->service_id,
                    areq->op_name);
        answer_error(proto, areq, &err, resp);
        return;
    }

    cJSON *in = NULL;
    if (proto->decode(areq, &in, &err) < 0) {
        cJSON_Delete(in);
        answer_error(proto, areq, &err, resp);
        return;
    }
    if (!in)
        in = cJSON_CreateObject();
    cJSON *out = cJSON_CreateObject();
    if (run_call(app, areq, op, in, out, &err) < 0)
        answer_error(proto, areq, &err, resp);
    else
        proto->encode(areq, out, resp);
    cJSON_Delete(in);
    cJSON_Delete(out);
}

/*
 * A service's plain-HTTP route (e.g. the instance metadata service): answered in one write
 * transaction, outside any AWS protocol. Returns false when no service claims the path.
 */
static bool
handle_service_route(struct app *app, const struct http_req *req, const struct aws_request *areq,
                     struct http_resp *resp)
{
    for (size_t i = 0; i < service_table_len; i++) {
        const struct service_hooks *h = service_table[i]->hooks;
        if (!h || !h->route || !h->route_prefix || !str_starts(areq->path, h->route_prefix))
            continue;
        struct aws_call call = {
            .app = app,
            .service = service_table[i]->name,
            .op = h->route_prefix,
            .region = DEFAULT_REGION,
            .account_id = app->cfg.account_id,
            .request_id = areq->request_id,
            .now_ms = vclock_now(app->clock),
        };
        snprintf(resp->service, sizeof(resp->service), "%s", service_table[i]->name);
        if (db_begin(app->db, true) < 0) {
            resp->status = 500;
            return true;
        }
        h->route(&call, req, areq->path, resp);
        if (db_commit(app->db) < 0) {
            db_rollback(app->db);
            resp->status = 500;
        }
        return true;
    }
    return false;
}

static void
request_init(struct app *app, const struct http_req *req, struct aws_request *areq)
{
    memset(areq, 0, sizeof(*areq));
    areq->http = req;
    areq->params = (struct params)PARAMS_INIT;
    ids_uuid(app->ids, areq->request_id);
}

void
router_handle(struct app *app, const struct http_req *req, struct http_resp *resp)
{
    struct aws_request areq;
    request_init(app, req, &areq);
    int bad_path = split_target(&areq);
    if (bad_path == 0 && handle_service_route(app, req, &areq, resp))
        return;
    if (bad_path == 0 &&
        (strcmp(areq.path, "/_fogbank") == 0 || str_starts(areq.path, CONTROL_PREFIX))) {
        snprintf(resp->service, sizeof(resp->service), "fogbank");
        control_handle(app, req, areq.path, resp);
        return;
    }
    handle_api(app, req, &areq, resp);
    params_release(&areq.params);
}

void
router_reject(struct app *app, const struct http_req *req, const struct aws_err *err,
              struct http_resp *resp)
{
    struct aws_request areq;
    char region[64];
    request_init(app, req, &areq);
    split_target(&areq);
    params_parse(&areq.params, areq.raw_query, strlen(areq.raw_query));
    region_from(req, &areq.params, region, sizeof(region));
    areq.region = region;
    areq.service = router_pick_service(req, &areq.params);
    areq.model = model_get(areq.service);
    const struct protocol *proto = areq.model ? protocol_for(model_protocol(areq.model)) : NULL;
    if (!proto)
        die("router: service %s has no model or protocol", areq.service);
    snprintf(resp->service, sizeof(resp->service), "%s", areq.service);
    proto->encode_error(&areq, err, resp);
    params_release(&areq.params);
}
