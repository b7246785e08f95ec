/*
 * The HTTP front: libmicrohttpd driven from the libuv loop (its epoll fd watched by a
 * uv_poll), so every request is answered on the loop thread. It limits body size, keeps
 * connections alive, logs one line per request and hands everything else to the router.
 * Only this file includes <microhttpd.h>.
 */
#ifndef FB_HTTP_H
#define FB_HTTP_H

#include "common.h"

struct app;
struct http_server;

/*
 * Starts listening on app->cfg.listen:app->cfg.port inside app->loop. NULL with a message
 * in errbuf on failure. The bound port (useful with port 0) is http_server_port().
 */
struct http_server *http_server_start(struct app *app, char *errbuf, size_t errsz);
int http_server_port(const struct http_server *s);
/* Stops accepting, closes connections and the loop handles. Accepts NULL. */
void http_server_stop(struct http_server *s);

#endif
