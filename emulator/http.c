/*
 * The HTTP front: libmicrohttpd in its external-epoll mode, driven from the libuv loop (a
 * uv_poll_t on MHD's epoll fd plus a uv_timer_t for MHD's own timeouts), so requests are
 * answered on the loop thread. It turns MHD's callbacks into one struct http_req, enforces
 * the body limit, sends the router's struct http_resp and logs the request. It must not
 * know any AWS protocol; it is the only file that includes <microhttpd.h>.
 */
#include "common.h"
#include "http.h"

#include "app.h"
#include "aws_err.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "router.h"
#include "wire.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <uv.h>

/* Enough for every SDK's connection pool; MHD refuses connections beyond it. */
#define HTTP_MAX_CONNECTIONS 512u
/* Idle keep-alive connections are closed after this (seconds), like an ALB's default. */
#define HTTP_IDLE_TIMEOUT_S 60u
#define HTTP_LISTEN_BACKLOG 511u
/* A connection's body buffer is kept between requests up to this size, else freed. */
#define HTTP_KEEP_BODY_BYTES (64u * 1024u)
/* Calls to MHD_run made back to back while MHD still has ready work, before yielding. */
#define HTTP_RUN_BURST 4

struct http_server {
    struct app *app;        /* borrowed; outlives the server */
    struct MHD_Daemon *mhd; /* NULL once stopped */
    uv_poll_t poll;         /* readable when MHD's epoll fd has events */
    uv_timer_t timer;       /* MHD_get_timeout(): connection timeouts and ready work */
    int handles_open;       /* uv handles not yet closed; the struct is freed at 0 */
    int port;               /* bound TCP port */
    char start_error[512];  /* MHD's last log message while starting (bind errors) */
    bool started;           /* MHD_start_daemon returned: its messages go to the log */
};

/*
 * Per TCP connection, reused by every request the connection carries (keep-alive), so a
 * request costs no allocation here once the buffers have grown.
 */
struct http_conn {
    struct http_server *srv;     /* owning server */
    char peer[INET6_ADDRSTRLEN]; /* client address for the log */
    struct buf target;           /* raw request-target of the current request */
    struct buf body;             /* body so far (empty once it is over the limit) */
    size_t body_seen;            /* body bytes received, kept or discarded */
    bool too_large;              /* body over app->cfg.max_body: discard, then reject */
    bool started;                /* the access handler saw the current request's headers */
    uint64_t start_ns;           /* monotonic time the request line arrived */
    struct http_header *headers; /* request headers, pointing into MHD's memory */
    size_t n_headers;            /* in use */
    size_t headers_alloc;        /* allocated */
};

static void http_run(struct http_server *s);

/* ---- MHD callbacks: connection and request bookkeeping ---- */

static void mhd_logger(void *cls, const char *fmt, va_list ap) FB_PRINTF(2, 0);

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (!s->started)
        snprintf(s->start_error, sizeof(s->start_error), "%s", msg);
    else
        log_info("http: %s", msg);
}

static void
peer_name(struct MHD_Connection *connection, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outsz, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outsz);
}

static void
conn_end_request(struct http_conn *c)
{
    c->started = false;
    c->too_large = false;
    c->body_seen = 0;
    c->n_headers = 0;
    if (c->body.alloc > HTTP_KEEP_BODY_BYTES)
        buf_release(&c->body);
    else
        buf_reset(&c->body);
    if (c->target.alloc > HTTP_KEEP_BODY_BYTES)
        buf_release(&c->target);
    else
        buf_reset(&c->target);
}

static void
on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct http_conn *c = xcalloc(1, sizeof(*c));
        c->srv = s;
        buf_init(&c->target);
        buf_init(&c->body);
        peer_name(connection, c->peer, sizeof(c->peer));
        *socket_context = c;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct http_conn *c = *socket_context;
        if (!c)
            return;
        buf_release(&c->target);
        buf_release(&c->body);
        free(c->headers);
        free(c);
        *socket_context = NULL;
    }
}

static struct http_conn *
conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Called with the raw request-target before MHD decodes it: the only place it is intact. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    (void)cls;
    struct http_conn *c = conn_of(connection);
    if (!c)
        return NULL;
    conn_end_request(c);
    buf_adds(&c->target, uri);
    c->start_ns = vclock_mono_ns();
    return c;
}

static void
on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)connection;
    (void)toe;
    struct http_conn *c = *req_cls;
    if (c)
        conn_end_request(c);
    *req_cls = NULL;
}

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct http_conn *c = cls;
    if (c->n_headers == c->headers_alloc) {
        c->headers_alloc = c->headers_alloc ? 2 * c->headers_alloc : 16;
        c->headers = xrealloc(c->headers, c->headers_alloc * sizeof(*c->headers));
    }
    c->headers[c->n_headers].name = key;
    c->headers[c->n_headers].value = value ? value : "";
    c->n_headers++;
    return MHD_YES;
}

/* ---- answering ---- */

static void
log_request(const struct http_conn *c, const struct http_req *req, const struct http_resp *resp)
{
    const char *target = req->target;
    size_t path_len = strcspn(target, "?");
    double ms = (double)(vclock_mono_ns() - c->start_ns) / 1e6;
    log_info("%s %s %.*s %s %s %d %.2fms", c->peer, req->method, (int)path_len, target,
             resp->service[0] ? resp->service : "-", resp->op[0] ? resp->op : "-", resp->status,
             ms);
}

/* The body of an answer to HEAD is never sent; MHD only needs its size. */
static ssize_t
head_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/*
 * The Content-Length an answer to HEAD states for the body it does not send (S3's
 * HeadObject), or -1. MHD writes Content-Length itself, from the size of the response.
 */
static int64_t
head_length(const struct http_req *req, const struct http_resp *resp)
{
    if (strcmp(req->method, "HEAD") != 0 || resp->body.len != 0)
        return -1;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (!str_ieq(resp->headers[i].name, MHD_HTTP_HEADER_CONTENT_LENGTH))
            continue;
        const char *v = resp->headers[i].value;
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (*v >= '0' && *v <= '9' && *end == '\0' && n <= INT64_MAX)
            return (int64_t)n;
    }
    return -1;
}

static enum MHD_Result
send_response(struct MHD_Connection *connection, const struct http_req *req, struct http_resp *resp)
{
    struct MHD_Response *r;
    size_t len = resp->body.len;
    int64_t head_len = head_length(req, resp);
    if (head_len >= 0) {
        r = MHD_create_response_from_callback((uint64_t)head_len, 4096, head_reader, NULL, NULL);
    } else if (len == 0) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        char *data = buf_detach(&resp->body, &len);
        r = MHD_create_response_from_buffer_with_free_callback(len, data, free);
        if (!r)
            free(data);
    }
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->n_headers; i++) {
        /* MHD writes Content-Length from the response size (head_len for HEAD). */
        if (str_ieq(resp->headers[i].name, MHD_HTTP_HEADER_CONTENT_LENGTH))
            continue;
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    }
    int status = resp->status >= 100 && resp->status <= 999 ? resp->status : 500;
    enum MHD_Result ret = MHD_queue_response(connection, (unsigned int)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
dispatch(struct http_conn *c, struct MHD_Connection *connection, const char *method)
{
    struct app *app = c->srv->app;
    c->n_headers = 0;
    MHD_get_connection_values(connection, MHD_HEADER_KIND, collect_header, c);
    struct http_req req = {
        .method = method,
        .target = c->target.data,
        .headers = c->headers,
        .n_headers = c->n_headers,
        .body = c->body.data,
        .body_len = c->body.len,
        .peer = c->peer,
    };
    struct http_resp resp;
    http_resp_init(&resp);
    if (c->too_large) {
        struct aws_err err;
        aws_err_set(&err, AWS_E_REQUEST_ENTITY_TOO_LARGE,
                    "Request body of %zu bytes exceeds the maximum of %zu bytes", c->body_seen,
                    app->cfg.max_body);
        router_reject(app, &req, &err, &resp);
    } else {
        router_handle(app, &req, &resp);
    }
    log_request(c, &req, &resp);
    enum MHD_Result ret = send_response(connection, &req, &resp);
    http_resp_release(&resp);
    return ret;
}

/* A declared Content-Length over the limit: no need to buffer any of it. */
static bool
declared_too_large(struct MHD_Connection *connection, size_t max)
{
    const char *cl = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > max;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct http_conn *c = *req_cls;
    if (!c) {
        /* on_uri always runs first; without it there is no raw target to route. */
        return MHD_NO;
    }
    size_t max = c->srv->app->cfg.max_body;
    if (!c->started) {
        c->started = true;
        c->too_large = declared_too_large(connection, max);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        c->body_seen += n;
        if (!c->too_large && c->body.len + n > max) {
            c->too_large = true;
            buf_release(&c->body);
        }
        if (!c->too_large)
            buf_add(&c->body, upload_data, n);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(c, connection, method);
}

/* ---- the loop side ---- */

static void
on_timer(uv_timer_t *t)
{
    http_run(t->data);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    http_run(p->data);
}

/*
 * Lets MHD accept, read, answer and write. Work MHD still has ready afterwards (timeout 0:
 * a response queued by the handler, data left in an edge-triggered socket) gets a few more
 * immediate runs, then a zero timer so other loop events are not starved.
 */
static void
http_run(struct http_server *s)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    for (int i = 0; i < HTTP_RUN_BURST; i++) {
        MHD_run(s->mhd);
        if (MHD_get_timeout(s->mhd, &ms) != MHD_YES) {
            uv_timer_stop(&s->timer);
            log_flush();
            return;
        }
        if (ms > 0)
            break;
    }
    uv_timer_start(&s->timer, on_timer, (uint64_t)ms, 0);
    log_flush();
}

static int
parse_listen(const char *listen, int port, struct sockaddr_storage *ss, bool *v6)
{
    memset(ss, 0, sizeof(*ss));
    char addr[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(listen);
    if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') {
        listen++;
        n -= 2;
    }
    if (n >= sizeof(addr))
        return -1;
    memcpy(addr, listen, n);
    addr[n] = '\0';
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *v6 = false;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return 0;
    }
    return -1;
}

struct http_server *
http_server_start(struct app *app, char *errbuf, size_t errsz)
{
    const char *listen = app->cfg.listen ? app->cfg.listen : "127.0.0.1";
    struct sockaddr_storage ss;
    bool v6;
    if (app->cfg.port < 0 || app->cfg.port > 65535) {
        snprintf(errbuf, errsz, "invalid port %d", app->cfg.port);
        return NULL;
    }
    if (parse_listen(listen, app->cfg.port, &ss, &v6) < 0) {
        snprintf(errbuf, errsz, "invalid listen address '%s' (want an IPv4 or IPv6 literal)",
                 listen);
        return NULL;
    }
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->app = app;
    unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (v6)
        flags |= MHD_USE_IPv6;
    s->mhd = MHD_start_daemon(
            flags, (uint16_t)app->cfg.port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_LISTEN_BACKLOG_SIZE, HTTP_LISTEN_BACKLOG,
            MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
            HTTP_IDLE_TIMEOUT_S, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s, MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(errbuf, errsz, "%s",
                 s->start_error[0] ? s->start_error : "cannot start the HTTP server");
        free(s);
        return NULL;
    }
    s->started = true;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : app->cfg.port;
    di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di || di->epoll_fd < 0) {
        snprintf(errbuf, errsz, "libmicrohttpd has no epoll fd");
        MHD_stop_daemon(s->mhd);
        free(s);
        return NULL;
    }
    uv_timer_init(app->loop, &s->timer);
    s->timer.data = s;
    uv_poll_init(app->loop, &s->poll, di->epoll_fd);
    s->poll.data = s;
    s->handles_open = 2;
    uv_poll_start(&s->poll, UV_READABLE, on_poll);
    http_run(s);
    return s;
}

int
http_server_port(const struct http_server *s)
{
    return s ? s->port : 0;
}

static void
on_handle_closed(uv_handle_t *h)
{
    struct http_server *s = h->data;
    if (--s->handles_open == 0)
        free(s);
}

void
http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    /* Stop watching the epoll fd before MHD closes it. */
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
}
