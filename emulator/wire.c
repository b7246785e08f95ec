/*
 * Helpers of the plain HTTP request/response structs. No socket, no library types.
 */
#include "common.h"
#include "wire.h"

const char *
http_req_header(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (str_ieq(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

void
http_resp_init(struct http_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    buf_init(&resp->body);
}

void
http_resp_release(struct http_resp *resp)
{
    if (!resp)
        return;
    buf_release(&resp->body);
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    resp->n_headers = 0;
}

void
http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    if (resp->n_headers == HTTP_RESP_MAX_HEADERS)
        die("http_resp_header: more than %d headers", HTTP_RESP_MAX_HEADERS);
    resp->headers[resp->n_headers].name = xstrdup(name);
    resp->headers[resp->n_headers].value = xstrdup(value);
    resp->n_headers++;
}
