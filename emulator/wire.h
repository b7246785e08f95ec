/*
 * The HTTP request and response as the router and the protocol layer see them: plain data,
 * no libmicrohttpd types. http.c fills a struct http_req from the wire and sends a struct
 * http_resp back; unit tests build them by hand.
 */
#ifndef FB_WIRE_H
#define FB_WIRE_H

#include "common.h"
#include "buf.h"

struct http_header {
    const char *name;  /* as received; compare with str_ieq */
    const char *value; /* as received */
};

struct http_req {
    const char *method;                /* "GET", "POST", "PUT", "DELETE", "HEAD", ... */
    const char *target;                /* raw request-target: percent-encoded path, then "?query" */
    const struct http_header *headers; /* borrowed, n_headers entries */
    size_t n_headers;
    const char *body; /* body bytes, may hold NUL; body[body_len] is always '\0' */
    size_t body_len;
    const char *peer; /* client address for the log, e.g. "127.0.0.1" */
};

/* The first header named `name` (case-insensitive), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

#define HTTP_RESP_MAX_HEADERS 16

struct http_resp {
    int status;               /* HTTP status code */
    const char *content_type; /* static string; NULL sends none */
    struct buf body;          /* response body */
    size_t n_headers;         /* extra headers in use */
    struct {
        char *name;  /* owned */
        char *value; /* owned */
    } headers[HTTP_RESP_MAX_HEADERS];
    char service[32]; /* for the request log: fogbank service name, or "" */
    char op[64];      /* for the request log: operation name, or "" */
};

void http_resp_init(struct http_resp *resp);
void http_resp_release(struct http_resp *resp);
/* Adds (copies) a response header; beyond HTTP_RESP_MAX_HEADERS it is a broken invariant. */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);

#endif
