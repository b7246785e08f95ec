/*
 * The router: names the service a request is for, hands the control API its requests, and
 * runs an API call through protocol decode -> transaction -> handler -> encode. It never
 * includes a service header; services come from service_table.
 */
#ifndef FB_ROUTER_H
#define FB_ROUTER_H

#include "common.h"
#include "wire.h"

struct app;

/*
 * Picks the service of a request that is not for the control API, in DESIGN.md's order:
 * X-Amz-Target, SigV4 credential scope, the Route53 path, the query Version, else S3.
 * `params` are the decoded query-string + form-body pairs (may be NULL).
 * Returns a botocore service name ("ec2", "elbv2", ...); never NULL (falls back to "s3").
 */
struct params;
const char *router_pick_service(const struct http_req *req, const struct params *params);

/* The region of the SigV4 credential scope in Authorization (or X-Amz-Credential), into out;
   "us-east-1" when there is none. */
void router_region(const struct http_req *req, char *out, size_t outsz);

/* Answers one HTTP request completely (never fails: errors become error responses). */
void router_handle(struct app *app, const struct http_req *req, struct http_resp *resp);

/*
 * Answers a request the front refuses before it is complete (e.g. a body over the size
 * limit, req->body may be partial or empty) with err, in the envelope of the service the
 * request's headers and path point at.
 */
struct aws_err;
void router_reject(struct app *app, const struct http_req *req, const struct aws_err *err,
                   struct http_resp *resp);

#endif
