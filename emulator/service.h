/*
 * What a service module gives the router: a sorted, const table of operations, one row per
 * AWS action, each a handler with one signature. The router does the generic work (find the
 * op, request id, one snapshot of virtual now, the transaction, serialisation); handlers
 * never see HTTP, XML, SQL, the system clock or fork().
 *
 * Adding an operation:
 *   1. a row in the service's table (sorted, trailing comma) and its handler
 *      `<service>_<action_in_snake_case>` taking (call, in, out, err);
 *   2. `scripts/gen-models` so the model carries the operation's full shapes;
 *   3. new error codes in emulator/aws_errors.def (or aws_err_setx for service codes);
 *   4. new SQL in state/ (typed functions, prepared statements);
 *   5. tests: service tests for the happy path and every error, an e2e call through the
 *      real aws CLI, and `scripts/ops-table` to refresh the README; then `make check`.
 */
#ifndef FB_SERVICE_H
#define FB_SERVICE_H

#include "common.h"
#include "aws_err.h"

#include <cjson/cJSON.h>

struct app;

/* The context of one API call: borrowed by the handler for the duration of the call. */
struct aws_call {
    struct app *app;        /* the running fogbank: state, clock, ids */
    const char *service;    /* botocore service name, e.g. "ec2" */
    const char *op;         /* operation name, e.g. "DescribeRegions" */
    const char *region;     /* from the SigV4 credential scope; default "us-east-1" */
    const char *account_id; /* --account-id, default "123456789012" */
    const char *request_id; /* the request id the response will carry */
    int64_t now_ms;         /* virtual now, one snapshot for the whole call */
};

/*
 * A handler: reads `in` (the typed input tree, never NULL: {} when the request had no
 * members), fills `out` (an empty object the router owns), returns 0, or -1 with err set.
 */
typedef int aws_handler_fn(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);

enum service_op_flags {
    OP_READONLY = 1 << 0, /* no write transaction (BEGIN DEFERRED instead of IMMEDIATE) */
};

struct service_op {
    const char *name;   /* AWS action name as in the model: "DescribeRegions" */
    aws_handler_fn *fn; /* never NULL */
    unsigned flags;     /* enum service_op_flags */
};

struct http_req;
struct http_resp;

/*
 * What a service does besides answering API calls; every member is optional. The router,
 * the control API and main call these, so the emulator never names a service.
 */
struct service_hooks {
    /* After the state is open, before serving: e.g. boot the instances that were running. */
    int (*start)(struct app *app, char *errbuf, size_t errsz);
    /* Before the control API empties the state: stop processes, cancel timers. */
    void (*reset)(struct app *app);
    /* At shutdown, before the state closes. */
    void (*stop)(struct app *app);
    /* Adds the service's part to GET /_fogbank/status (e.g. out.instances = [...]). */
    void (*status)(struct app *app, cJSON *out);
    /*
     * Plain-HTTP requests under route_prefix (e.g. the instance metadata service under
     * "/_imds/"), answered outside any AWS protocol inside a read-write transaction.
     */
    const char *route_prefix;
    void (*route)(struct aws_call *call, const struct http_req *req, const char *path,
                  struct http_resp *resp);
    /*
     * POST /_fogbank/<kind> for a kind the control API does not answer itself ("faults",
     * "images/import", ...), JSON body `in`: returns 1 if the service handled it (out filled),
     * 0 if the kind or in.action is not this service's, -1 + err for a bad request. Runs in
     * one write transaction.
     */
    int (*action)(struct aws_call *call, const char *kind, const cJSON *in, cJSON *out,
                  struct aws_err *err);
};

struct service {
    const char *name;                  /* botocore model name: "ec2", "autoscaling", ... */
    const struct service_op *ops;      /* sorted by name (strcmp), n_ops rows */
    size_t n_ops;                      /* rows in ops */
    const struct service_hooks *hooks; /* NULL when the service has none */
};

/* Every service fogbank serves, defined in services/services.c. */
extern const struct service *const service_table[];
extern const size_t service_table_len;

/* The service named `name`, or NULL. */
const struct service *service_get(const char *name);
/* The row for `op` in s (binary search), or NULL. */
const struct service_op *service_find_op(const struct service *s, const char *op);

#endif
