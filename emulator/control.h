/*
 * The control API of fogbank itself under /_fogbank/ (JSON in and out): health, reset,
 * the virtual clock. It reaches services only through the app and state modules.
 */
#ifndef FB_CONTROL_H
#define FB_CONTROL_H

#include "common.h"
#include "wire.h"

struct app;

#define CONTROL_PREFIX "/_fogbank/"

/* Answers a request whose path starts with CONTROL_PREFIX (or is "/_fogbank"). */
void control_handle(struct app *app, const struct http_req *req, const char *path,
                    struct http_resp *resp);

#endif
