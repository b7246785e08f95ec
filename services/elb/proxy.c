/*
 * The data plane: each listener accepts on 127.0.0.1 at a port fogbank allocates (or the
 * user pins: elb_dataplane_pin) and forwards to the load balancer's InService instances
 * through their port maps. HTTP listeners proxy HTTP/1.1 request by request (parsed with
 * http-parser) with keep-alive on both sides, adding X-Forwarded-For/-Port/-Proto, answering
 * 503 when no instance is InService, 504 when the instance does not answer within the idle
 * timeout, and 500 for an instance under the health-fail fault; TCP listeners pass bytes
 * both ways. Connections to instances are kept after a keep-alive response and reused by the
 * next request to that instance from any client (closed after the idle timeout, or when the
 * instance leaves). Everything runs on the loop, nothing blocks. The routing tables (pools)
 * are rebuilt from the state after each change; time (idle timeout, draining) is virtual.
 */
#include "emulator/common.h"
#include "services/elb/elb_internal.h"
#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"
#include "emulator/log.h"
#include "services/ec2/api.h"
#include "state/db.h"

#include <http_parser.h>
#include <strings.h>
#include <uv.h>

/* How often (virtual ms) idle connections and overdue requests are looked for. */
#define SWEEP_MS 1000
/* Client bytes kept while a request is in flight before the client is no longer read. */
#define PENDING_MAX 65536

struct listener {
    uv_tcp_t server;       /* the accepting socket; data points here */
    char region[32];       /* the load balancer's region */
    char name[40];         /* the load balancer */
    int lb_port;           /* LoadBalancerPort */
    bool http;             /* HTTP/HTTPS (proxied per request) vs TCP/SSL (bytes) */
    char proto[8];         /* "http" / "https" for X-Forwarded-Proto */
    int host_port;         /* the loopback port bound */
    bool seen;             /* still in the state (during a sync) */
    struct listener *next; /* the list */
};

/*
 * A connection to an instance. An HTTP request holds one from its head to the end of its
 * response, then it goes back to the idle pool for the next request to that instance (from
 * any client), as ELB keeps its back-end connections; a TCP connection holds one for life.
 * Its own heap object: it closes and frees on its own schedule, whatever its client does.
 */
struct backend {
    uv_tcp_t tcp;          /* the socket; data points here */
    uv_connect_t connect;  /* the connect request */
    struct conn *owner;    /* the client connection it serves; NULL while idle */
    struct backend *next;  /* the idle pool (while idle) */
    char id[32];           /* the instance */
    int host_port;         /* the instance port's host port it is connected to */
    bool ready;            /* connected */
    bool closing;          /* backend_close called */
    struct buf queued;     /* bytes written before it connected */
    int64_t idle_ms;       /* virtual time it went idle */
    int64_t idle_limit_ms; /* closed when idle this long (its load balancer's idle timeout) */
};

struct conn {
    uv_tcp_t client;        /* the accepted connection */
    struct backend *be;     /* the instance connection in use, or NULL */
    uv_shutdown_t shutdown; /* the client shutdown before closing */
    bool closing;           /* conn_close called */
    bool shutting;          /* a client shutdown is pending */
    bool reading;           /* the client is being read */
    bool client_eof;        /* the client sent EOF while a request was in flight */
    char region[32];        /* the listener's load balancer */
    char name[40];          /* ... */
    int lb_port;            /* the listener */
    bool http;              /* listener kind */
    char proto[8];          /* "http" / "https" */
    char client_ip[64];     /* for X-Forwarded-For */
    http_parser req;        /* request parser (HTTP) */
    http_parser resp;       /* response parser (HTTP) */
    struct buf head;        /* the request head being rebuilt */
    struct buf url;         /* the request target */
    struct buf field;       /* the header name being read */
    struct buf value;       /* the header value being read */
    struct buf xff;         /* the client's X-Forwarded-For, if any */
    struct buf out;         /* the rebuilt request head (kept: no allocation per request) */
    char fwd_tail[64];      /* "\r\nX-Forwarded-Port: ...\r\nX-Forwarded-Proto: ...\r\n\r\n" */
    size_t fwd_tail_len;    /* its length */
    bool last_was_value;    /* header callbacks: a value was the last thing read */
    bool chunked;           /* the request body is chunked (re-chunked on the way) */
    bool head_method;       /* the request is HEAD (its response has no body) */
    int local_status;       /* != 0: fogbank answers this request itself */
    bool in_flight;         /* a request went to the backend, its response is not done */
    bool paused;            /* the request parser waits for the response */
    bool got_response;      /* some response bytes arrived for the request in flight */
    struct buf pending;     /* client bytes not parsed yet (while paused) */
    int64_t last_ms;        /* virtual time of the last activity */
    int64_t sent_ms;        /* virtual time the request in flight was sent */
    struct conn *next;      /* the list */
};

struct wreq {
    uv_write_t w; /* the write */
    bool backend; /* to an instance (its handle's data is a backend) or to a client (a conn) */
    char data[];  /* a copy of the bytes */
};

/* Idle instance connections kept at most (the oldest is closed past this). */
#define IDLE_MAX 256

static struct {
    struct app *app;            /* whose data plane this is */
    struct listener *listeners; /* bound listeners */
    struct conn *conns;         /* open connections */
    struct backend *idle;       /* idle instance connections, newest first */
    size_t n_idle;              /* entries of idle */
    struct elb_pool *pools;     /* one per load balancer */
    size_t n_pools;             /* entries of pools */
    uv_timer_t *sync_timer;     /* the next-pass sync, NULL until needed; freed on close */
    uint64_t sweep;             /* the vclock sweep timer, 0 when none */
} dp;

static void
attach(struct app *app)
{
    if (dp.app != app) {
        dp.app = app;
        dp.listeners = NULL;
        dp.conns = NULL;
        dp.idle = NULL;
        dp.n_idle = 0;
        dp.pools = NULL;
        dp.n_pools = 0;
        dp.sync_timer = NULL;
        dp.sweep = 0;
    }
}

/* ---- pools ---- */

static void
pools_free(struct elb_pool *pools, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < pools[i].n; k++)
            free(pools[i].b[k].host_ports);
        free(pools[i].b);
        free(pools[i].listener_ports);
    }
    free(pools);
}

struct elb_pool *
elb_dataplane_pool(const char *region, const char *name)
{
    for (size_t i = 0; i < dp.n_pools; i++)
        if (strcmp(dp.pools[i].region, region) == 0 && strcmp(dp.pools[i].name, name) == 0)
            return &dp.pools[i];
    return NULL;
}

int
elb_pool_pick(struct elb_pool *p)
{
    if (p->n == 0)
        return -1;
    if (p->cross_zone) {
        for (size_t k = 0; k < p->n; k++) {
            size_t i = (p->rr + k) % p->n;
            if (p->b[i].routable) {
                p->rr = i + 1;
                return (int)i;
            }
        }
        return -1;
    }
    /* Cross-zone off: each zone's node takes an equal share, then spreads it in its zone. */
    const char *zones[ARRAY_SIZE(p->zone_cursor)];
    bool live[ARRAY_SIZE(p->zone_cursor)];
    size_t nz = 0, n_live = 0;
    for (size_t i = 0; i < p->n; i++) {
        size_t z = 0;
        while (z < nz && strcmp(zones[z], p->b[i].az) != 0)
            z++;
        if (z == nz) {
            if (nz == ARRAY_SIZE(zones))
                continue;
            zones[nz] = p->b[i].az;
            live[nz++] = false;
        }
        if (p->b[i].routable && !live[z]) {
            live[z] = true;
            n_live++;
        }
    }
    if (n_live == 0)
        return -1;
    size_t want = p->zone_rr++ % n_live, z = 0;
    for (size_t seen = 0; z < nz; z++) {
        if (live[z] && seen++ == want)
            break;
    }
    size_t in_zone = 0;
    for (size_t i = 0; i < p->n; i++)
        in_zone += strcmp(p->b[i].az, zones[z]) == 0;
    for (size_t k = 0; k < in_zone; k++) {
        size_t nth = (p->zone_cursor[z] + k) % in_zone, seen = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (strcmp(p->b[i].az, zones[z]) != 0)
                continue;
            if (seen++ == nth) {
                if (p->b[i].routable) {
                    p->zone_cursor[z] = nth + 1;
                    return (int)i;
                }
                break;
            }
        }
    }
    return -1;
}

/* ---- connections ---- */

static void conn_close(struct conn *c);

static int64_t
now_ms(void)
{
    return vclock_now(dp.app->clock);
}

static void
conn_freed(uv_handle_t *h)
{
    struct conn *c = h->data;
    buf_release(&c->head);
    buf_release(&c->url);
    buf_release(&c->field);
    buf_release(&c->value);
    buf_release(&c->xff);
    buf_release(&c->out);
    buf_release(&c->pending);
    free(c);
}

/* ---- instance connections ---- */

static void
backend_freed(uv_handle_t *h)
{
    struct backend *be = h->data;
    buf_release(&be->queued);
    free(be);
}

static void
idle_unlink(struct backend *be)
{
    for (struct backend **pp = &dp.idle; *pp; pp = &(*pp)->next) {
        if (*pp == be) {
            *pp = be->next;
            dp.n_idle--;
            return;
        }
    }
}

/* Closes an instance connection, in use or idle; it frees itself once the loop is done. */
static void
backend_close(struct backend *be)
{
    if (!be || be->closing)
        return;
    be->closing = true;
    if (be->owner)
        be->owner->be = NULL;
    else
        idle_unlink(be);
    be->owner = NULL;
    uv_close((uv_handle_t *)&be->tcp, backend_freed);
}

/* The client's instance connection goes back to the idle pool (closed when not reusable). */
static void
backend_park(struct conn *c)
{
    struct backend *be = c->be;
    if (!be)
        return;
    if (!be->ready) {
        backend_close(be);
        return;
    }
    c->be = NULL;
    be->owner = NULL;
    be->idle_ms = now_ms();
    struct elb_pool *p = elb_dataplane_pool(c->region, c->name);
    be->idle_limit_ms = (int64_t)(p ? p->idle_timeout_s : 60) * 1000;
    be->next = dp.idle;
    dp.idle = be;
    if (++dp.n_idle > IDLE_MAX) {
        struct backend *old = dp.idle;
        while (old->next)
            old = old->next;
        backend_close(old);
    }
}

static void
on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    conn_close(s->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* Starts or stops reading the client (each costs a system call: only on a change). */
static void
client_read(struct conn *c, bool on)
{
    if (c->reading == on)
        return;
    c->reading = on;
    if (on)
        uv_read_start((uv_stream_t *)&c->client, on_alloc, on_client_read);
    else
        uv_read_stop((uv_stream_t *)&c->client);
}

static void
conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    for (struct conn **pp = &dp.conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    /* An instance connection still in use may yet carry an answer: not reusable. */
    backend_close(c->be);
    uv_close((uv_handle_t *)&c->client, conn_freed);
}

/* Closes the client once what was written to it has gone out. */
static void
conn_finish(struct conn *c)
{
    if (c->closing || c->shutting)
        return;
    c->shutting = true;
    backend_close(c->be);
    client_read(c, false);
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->client, on_shutdown) < 0)
        conn_close(c);
}

/* A write failed: the connection it went to is closed, and the client with it. */
static void
write_failed(uv_stream_t *s, bool backend)
{
    if (backend) {
        struct backend *be = s->data;
        struct conn *c = be->owner;
        backend_close(be);
        if (c)
            conn_close(c);
    } else {
        conn_close(s->data);
    }
}

static void
on_written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;
    if (status < 0 && status != UV_ECANCELED)
        write_failed(w->handle, r->backend);
    free(r);
}

static void
stream_write(uv_stream_t *s, bool backend, const char *data, size_t len)
{
    if (len == 0 || uv_is_closing((uv_handle_t *)s))
        return;
    if (uv_stream_get_write_queue_size(s) == 0) {
        /* Most writes go out at once: no request, no copy. */
        uv_buf_t now = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write(s, &now, 1);
        if (n == (int)len)
            return;
        if (n < 0 && n != UV_EAGAIN) {
            write_failed(s, backend);
            return;
        }
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
    }
    struct wreq *r = xmalloc(sizeof(*r) + len);
    memcpy(r->data, data, len);
    r->backend = backend;
    uv_buf_t b = uv_buf_init(r->data, (unsigned)len);
    if (uv_write(&r->w, s, &b, 1, on_written) < 0) {
        free(r);
        write_failed(s, backend);
    }
}

static void
to_client(struct conn *c, const char *data, size_t len)
{
    if (!c->closing)
        stream_write((uv_stream_t *)&c->client, false, data, len);
}

/* Bytes for the request's instance (dropped when it has none: answered locally, or gone). */
static void
to_backend(struct conn *c, const char *data, size_t len)
{
    struct backend *be = c->be;
    if (!be || c->closing)
        return;
    if (be->ready)
        stream_write((uv_stream_t *)&be->tcp, true, data, len);
    else
        buf_add(&be->queued, data, len);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char slab[65536];
    *b = uv_buf_init(slab, sizeof(slab));
}

/* An answer of fogbank's own, as ELB gives it (empty body). */
static void
local_answer(struct conn *c, int status, bool keep)
{
    const char *text = status == 503   ? "Service Unavailable: Back-end server is at capacity"
                       : status == 504 ? "GATEWAY_TIMEOUT"
                       : status == 502 ? "Bad Gateway"
                       : status == 400 ? "Bad Request"
                                       : "Internal Server Error";
    struct buf b = BUF_INIT;
    buf_addf(&b, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: %s\r\n\r\n", status, text,
             keep ? "keep-alive" : "close");
    to_client(c, b.data, b.len);
    buf_release(&b);
}

/*
 * True while the health-fail fault is on the instance. Asked per request, answered from the
 * backend's copy until any write moves the state (db_changes): a fault set or cleared is seen
 * by the very next request, and a steady state costs no SQL per request.
 */
static bool
health_failing(struct conn *c, struct elb_backend *b)
{
    uint64_t now = db_changes(dp.app->db);
    if (b->fault_at != now) {
        struct aws_call call;
        elb_internal_call(dp.app, c->region, &call);
        b->failing = ec2_api_health_fail(&call, b->id);
        b->fault_at = now;
    }
    return b->failing;
}

static void backend_take(struct conn *c, const char *id, int host_port);

/*
 * Chooses the instance for a new request (or TCP connection): 0 with a backend connection
 * (re)used, else the status fogbank answers itself (503 none InService, 500 health-fail).
 */
static int
route(struct conn *c)
{
    struct elb_pool *p = elb_dataplane_pool(c->region, c->name);
    int i = p ? elb_pool_pick(p) : -1;
    if (i < 0)
        return 503;
    struct elb_backend *b = &p->b[i];
    if (health_failing(c, b))
        return 500;
    int host_port = 0;
    for (size_t k = 0; k < p->n_listeners; k++)
        if (p->listener_ports[k] == c->lb_port)
            host_port = b->host_ports[k];
    if (host_port <= 0)
        return 503;
    backend_take(c, b->id, host_port);
    return 0;
}

/* ---- HTTP: requests ---- */

static void
header_flush(struct conn *c)
{
    if (!c->field.len)
        return;
    const char *f = c->field.data;
    if (strcasecmp(f, "X-Forwarded-For") == 0) {
        buf_adds(&c->xff, c->value.data);
    } else if (strcasecmp(f, "X-Forwarded-Port") != 0 && strcasecmp(f, "X-Forwarded-Proto") != 0) {
        buf_add(&c->head, f, c->field.len);
        buf_add(&c->head, ": ", 2);
        buf_add(&c->head, c->value.data, c->value.len);
        buf_add(&c->head, "\r\n", 2);
    }
    buf_reset(&c->field);
    buf_reset(&c->value);
    c->last_was_value = false;
}

static int
on_message_begin(http_parser *hp)
{
    struct conn *c = hp->data;
    buf_reset(&c->head);
    buf_reset(&c->url);
    buf_reset(&c->field);
    buf_reset(&c->value);
    buf_reset(&c->xff);
    c->last_was_value = false;
    c->local_status = 0;
    return 0;
}

static int
on_url(http_parser *hp, const char *at, size_t len)
{
    struct conn *c = hp->data;
    buf_add(&c->url, at, len);
    return 0;
}

static int
on_header_field(http_parser *hp, const char *at, size_t len)
{
    struct conn *c = hp->data;
    if (c->last_was_value)
        header_flush(c);
    buf_add(&c->field, at, len);
    return 0;
}

static int
on_header_value(http_parser *hp, const char *at, size_t len)
{
    struct conn *c = hp->data;
    buf_add(&c->value, at, len);
    c->last_was_value = true;
    return 0;
}

static int
on_req_headers_complete(http_parser *hp)
{
    struct conn *c = hp->data;
    header_flush(c);
    c->chunked = (hp->flags & F_CHUNKED) != 0;
    c->head_method = hp->method == HTTP_HEAD;
    int status = route(c);
    if (status) {
        c->local_status = status;
        return 0;
    }
    /* The head goes out rebuilt: request line, the client's headers, then ELB's own. */
    struct buf *h = &c->out;
    char version[16];
    buf_reset(h);
    buf_adds(h, http_method_str((enum http_method)hp->method));
    buf_addc(h, ' ');
    buf_add(h, c->url.data, c->url.len);
    snprintf(version, sizeof(version), " HTTP/%d.%d\r\n", hp->http_major % 10, hp->http_minor % 10);
    buf_adds(h, version);
    buf_add(h, c->head.data, c->head.len);
    buf_add(h, "X-Forwarded-For: ", 17);
    if (c->xff.len) {
        buf_add(h, c->xff.data, c->xff.len);
        buf_add(h, ", ", 2);
    }
    buf_adds(h, c->client_ip);
    buf_add(h, c->fwd_tail, c->fwd_tail_len);
    to_backend(c, h->data, h->len);
    http_parser_init(&c->resp, HTTP_RESPONSE);
    c->resp.data = c;
    c->in_flight = true;
    c->got_response = false;
    c->sent_ms = now_ms();
    return 0;
}

static int
on_req_body(http_parser *hp, const char *at, size_t len)
{
    struct conn *c = hp->data;
    if (c->local_status)
        return 0;
    if (c->chunked) {
        char size[24];
        snprintf(size, sizeof(size), "%zx\r\n", len);
        to_backend(c, size, strlen(size));
        to_backend(c, at, len);
        to_backend(c, "\r\n", 2);
    } else {
        to_backend(c, at, len);
    }
    return 0;
}

static int
on_req_complete(http_parser *hp)
{
    struct conn *c = hp->data;
    if (c->local_status) {
        bool keep = http_should_keep_alive(hp) != 0;
        local_answer(c, c->local_status, keep);
        if (!keep)
            conn_finish(c);
        return 0;
    }
    if (c->chunked)
        to_backend(c, "0\r\n\r\n", 5);
    /* One request at a time: the next waits until this one's response is complete. */
    c->paused = true;
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings req_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_req_headers_complete,
    .on_body = on_req_body,
    .on_message_complete = on_req_complete,
};

/* Feeds client bytes to the request parser, keeping what a pause leaves over. */
static void
client_bytes(struct conn *c, const char *data, size_t len)
{
    if (c->paused) {
        /* Kept for after the response; reading stops only when a lot piles up, so a
           keep-alive client costs no read stop/start per request. */
        buf_add(&c->pending, data, len);
        if (c->pending.len > PENDING_MAX)
            client_read(c, false);
        return;
    }
    size_t done = http_parser_execute(&c->req, &req_settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->req);
    if (e == HPE_PAUSED) {
        buf_add(&c->pending, data + done, len - done);
        if (c->pending.len > PENDING_MAX)
            client_read(c, false);
    } else if (e != HPE_OK && !c->closing) {
        local_answer(c, 400, false);
        conn_finish(c);
    }
}

static void
resume_client(struct conn *c)
{
    if (c->closing || c->shutting)
        return;
    c->paused = false;
    http_parser_pause(&c->req, 0);
    if (c->pending.len) {
        struct buf rest = c->pending; /* parsed from its own storage; pending starts anew */
        buf_init(&c->pending);
        client_bytes(c, rest.data, rest.len);
        buf_release(&rest);
    }
    if (c->paused || c->closing || c->shutting)
        return;
    if (c->client_eof)
        conn_finish(c); /* the client is done sending: close once its answers are out */
    else
        client_read(c, true);
}

/* ---- HTTP: responses ---- */

static int
on_resp_headers_complete(http_parser *hp)
{
    struct conn *c = hp->data;
    return c->head_method ? 1 : 0;
}

static int
on_resp_complete(http_parser *hp)
{
    struct conn *c = hp->data;
    if (hp->status_code < 200)
        return 0; /* 1xx: the real response follows */
    c->in_flight = false;
    bool keep = http_should_keep_alive(hp) != 0;
    if (!keep) {
        /* The instance closes (or HTTP/1.0 without keep-alive): the client, who saw the same
           header, is closed once the answer is out. */
        conn_finish(c);
        return 0;
    }
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings resp_settings = {
    .on_headers_complete = on_resp_headers_complete,
    .on_message_complete = on_resp_complete,
};

static void
on_backend_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct backend *be = s->data;
    struct conn *c = be->owner;
    if (be->closing)
        return;
    if (!c) {
        /* Idle: the instance closed it (or said something unasked): not reusable. */
        backend_close(be);
        return;
    }
    if (nread < 0) {
        if (c->http && c->in_flight) {
            http_parser_execute(&c->resp, &resp_settings, NULL, 0);
            if (c->in_flight && !c->got_response) {
                local_answer(c, 502, false);
                conn_finish(c);
                return;
            }
            if (c->in_flight) {
                conn_finish(c);
                return;
            }
        }
        if (!c->http) {
            conn_finish(c);
            return;
        }
        backend_close(be);
        return;
    }
    c->last_ms = now_ms();
    to_client(c, b->base, (size_t)nread);
    if (!c->http)
        return;
    c->got_response = true;
    size_t done = http_parser_execute(&c->resp, &resp_settings, b->base, (size_t)nread);
    if (HTTP_PARSER_ERRNO(&c->resp) == HPE_PAUSED) {
        /* The response is complete and keep-alive. Its connection serves the next request
           to this instance, unless the request is still being sent or the instance sent
           more than the response. */
        http_parser_pause(&c->resp, 0);
        if (c->paused && done == (size_t)nread)
            backend_park(c);
        else
            backend_close(be);
        resume_client(c);
    }
}

static void
on_backend_connect(uv_connect_t *req, int status)
{
    struct backend *be = req->data;
    struct conn *c = be->owner;
    if (be->closing)
        return;
    if (status < 0) {
        backend_close(be);
        if (c && c->http && c->in_flight) {
            local_answer(c, 502, false);
            conn_finish(c);
        } else if (c) {
            conn_close(c);
        }
        return;
    }
    be->ready = true;
    uv_read_start((uv_stream_t *)&be->tcp, on_alloc, on_backend_read);
    if (be->queued.len) {
        struct buf q = be->queued;
        buf_init(&be->queued);
        stream_write((uv_stream_t *)&be->tcp, true, q.data, q.len);
        buf_release(&q);
    }
}

/*
 * Gives the client a connection to the instance's host port: an idle one to it when there
 * is one (HTTP; a TCP connection always has its own), else a new one, connecting.
 */
static void
backend_take(struct conn *c, const char *id, int host_port)
{
    if (c->be && c->be->host_port == host_port && strcmp(c->be->id, id) == 0)
        return;
    backend_close(c->be);
    for (struct backend *be = dp.idle; be && c->http; be = be->next) {
        if (be->host_port == host_port && strcmp(be->id, id) == 0) {
            idle_unlink(be);
            be->owner = c;
            c->be = be;
            return;
        }
    }
    struct backend *be = xcalloc(1, sizeof(*be));
    buf_init(&be->queued);
    snprintf(be->id, sizeof(be->id), "%s", id);
    be->host_port = host_port;
    be->owner = c;
    c->be = be;
    uv_tcp_init(dp.app->loop, &be->tcp);
    be->tcp.data = be;
    /* Requests go out whole: Nagle would hold one behind the instance's delayed ACK (a
       200 ms tail at p99 under load). */
    uv_tcp_nodelay(&be->tcp, 1);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", host_port, &addr);
    be->connect.data = be;
    if (uv_tcp_connect(&be->connect, &be->tcp, (const struct sockaddr *)&addr, on_backend_connect) <
        0)
        backend_close(be);
}

static void
on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread == UV_EOF && c->http && c->paused) {
            /* A half-close after the request: its answer still goes out. */
            c->client_eof = true;
            client_read(c, false);
            return;
        }
        conn_close(c);
        return;
    }
    c->last_ms = now_ms();
    if (c->http)
        client_bytes(c, b->base, (size_t)nread);
    else
        to_backend(c, b->base, (size_t)nread);
}

/* ---- the sweep: idle timeout and backend timeout, in virtual time ---- */

static int64_t
sweep_fire(void *arg, int64_t now)
{
    (void)arg;
    struct conn *next;
    for (struct conn *c = dp.conns; c; c = next) {
        next = c->next;
        struct elb_pool *p = elb_dataplane_pool(c->region, c->name);
        int64_t idle = (int64_t)(p ? p->idle_timeout_s : 60) * 1000;
        if (c->http && c->in_flight && !c->got_response && now - c->sent_ms >= idle) {
            local_answer(c, 504, false);
            conn_finish(c);
        } else if (now - c->last_ms >= idle) {
            conn_close(c);
        }
    }
    struct backend *be_next;
    for (struct backend *be = dp.idle; be; be = be_next) {
        be_next = be->next;
        if (now - be->idle_ms >= be->idle_limit_ms)
            backend_close(be);
    }
    if (!dp.conns && !dp.idle) {
        dp.sweep = 0;
        return VCLOCK_DONE;
    }
    return SWEEP_MS;
}

static void
on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    if (status < 0)
        return;
    struct conn *c = xcalloc(1, sizeof(*c));
    buf_init(&c->head);
    buf_init(&c->url);
    buf_init(&c->field);
    buf_init(&c->value);
    buf_init(&c->xff);
    buf_init(&c->out);
    buf_init(&c->pending);
    uv_tcp_init(dp.app->loop, &c->client);
    c->client.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->client, conn_freed);
        return;
    }
    uv_tcp_nodelay(&c->client, 1);
    snprintf(c->region, sizeof(c->region), "%s", l->region);
    snprintf(c->name, sizeof(c->name), "%s", l->name);
    snprintf(c->proto, sizeof(c->proto), "%s", l->proto);
    c->lb_port = l->lb_port;
    c->http = l->http;
    int tail = snprintf(c->fwd_tail, sizeof(c->fwd_tail),
                        "\r\nX-Forwarded-Port: %d\r\nX-Forwarded-Proto: %s\r\n\r\n", c->lb_port,
                        c->proto);
    c->fwd_tail_len = tail > 0 && (size_t)tail < sizeof(c->fwd_tail) ? (size_t)tail : 0;
    c->last_ms = now_ms();
    struct sockaddr_storage peer;
    int len = sizeof(peer);
    snprintf(c->client_ip, sizeof(c->client_ip), "127.0.0.1");
    if (uv_tcp_getpeername(&c->client, (struct sockaddr *)&peer, &len) == 0 &&
        peer.ss_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)&peer, c->client_ip, sizeof(c->client_ip));
    c->next = dp.conns;
    dp.conns = c;
    if (!dp.sweep)
        dp.sweep = vclock_timer_add(dp.app->clock, SWEEP_MS, sweep_fire, NULL);
    if (c->http) {
        http_parser_init(&c->req, HTTP_REQUEST);
        c->req.data = c;
    } else if (route(c) != 0) {
        conn_close(c);
        return;
    }
    client_read(c, true);
}

/* ---- listeners ---- */

static void
listener_freed(uv_handle_t *h)
{
    free(h->data);
}

/*
 * A new listener of (region, name, lb_port) bound and listening on 127.0.0.1:`port` (0: any
 * free one), not yet in the list; NULL with *uverr set when the port cannot be had (the
 * handle is then closed and freed by the loop).
 */
static struct listener *
listener_open(const char *region, const char *name, int lb_port, int port, int *uverr)
{
    struct listener *l = xcalloc(1, sizeof(*l));
    snprintf(l->region, sizeof(l->region), "%s", region);
    snprintf(l->name, sizeof(l->name), "%s", name);
    l->lb_port = lb_port;
    uv_tcp_init(dp.app->loop, &l->server);
    l->server.data = l;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    struct sockaddr_storage got;
    int len = sizeof(got);
    int rc = uv_tcp_bind(&l->server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->server, 128, on_connection);
    if (rc == 0)
        rc = uv_tcp_getsockname(&l->server, (struct sockaddr *)&got, &len);
    if (rc < 0) {
        /* The loop still holds the handle until its close callback: freed there. */
        *uverr = rc;
        uv_close((uv_handle_t *)&l->server, listener_freed);
        return NULL;
    }
    l->host_port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    return l;
}

static struct listener *
listener_find(const char *region, const char *name, int lb_port)
{
    for (struct listener *l = dp.listeners; l; l = l->next)
        if (l->lb_port == lb_port && strcmp(l->region, region) == 0 && strcmp(l->name, name) == 0)
            return l;
    return NULL;
}

/* Sets how the listener treats its connections from the listener's Protocol. */
static void
listener_kind(struct listener *l, const char *protocol)
{
    l->http = strcmp(protocol, "HTTP") == 0 || strcmp(protocol, "HTTPS") == 0;
    snprintf(l->proto, sizeof(l->proto), "%s",
             strcmp(protocol, "HTTPS") == 0 ? "https"
             : strcmp(protocol, "SSL") == 0 ? "ssl"
             : strcmp(protocol, "TCP") == 0 ? "tcp"
                                            : "http");
}

/* Makes the bound listeners match the state's; writes new host ports back. */
static void
listeners_sync(struct app *app, const struct elb_listener_row *rows, size_t n)
{
    for (struct listener *l = dp.listeners; l; l = l->next)
        l->seen = false;
    for (size_t i = 0; i < n; i++) {
        const struct elb_listener_row *r = &rows[i];
        struct listener *l = listener_find(r->region, r->lb_name, r->lb_port);
        if (!l && app->loop) {
            /* The port it had (pinned, or before a restart), else any free one. */
            int uverr = 0;
            if (r->host_port > 0) {
                l = listener_open(r->region, r->lb_name, r->lb_port, r->host_port, &uverr);
                if (!l)
                    log_error("elb: %s:%d cannot have host port %d again (%s), taking another",
                              r->lb_name, r->lb_port, r->host_port, uv_strerror(uverr));
            }
            if (!l)
                l = listener_open(r->region, r->lb_name, r->lb_port, 0, &uverr);
            if (!l) {
                log_error("elb: cannot bind a port for %s:%d: %s", r->lb_name, r->lb_port,
                          uv_strerror(uverr));
                continue;
            }
            l->next = dp.listeners;
            dp.listeners = l;
        }
        if (!l)
            continue;
        l->seen = true;
        listener_kind(l, r->protocol);
        if (r->host_port != l->host_port)
            elb_store_listener_set_host_port(app->db, r->region, r->lb_name, r->lb_port,
                                             l->host_port);
    }
    for (struct listener **pp = &dp.listeners; *pp;) {
        struct listener *l = *pp;
        if (l->seen) {
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        uv_close((uv_handle_t *)&l->server, listener_freed);
    }
}

/* The pool of one load balancer from the state (inside the sync's transaction). */
static void
pool_build(struct aws_call *call, const struct elb_lb_row *lb, const struct elb_listener_row *ls,
           size_t n_ls, struct elb_pool *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->region, sizeof(p->region), "%s", lb->region);
    snprintf(p->name, sizeof(p->name), "%s", lb->name);
    p->cross_zone = lb->cross_zone;
    p->idle_timeout_s = lb->idle_timeout;
    p->drain_timeout_ms = lb->drain_enabled ? (int64_t)lb->drain_timeout * 1000 : 0;
    p->listener_ports = xcalloc(n_ls ? n_ls : 1, sizeof(int));
    int *instance_ports = xcalloc(n_ls ? n_ls : 1, sizeof(int));
    for (size_t i = 0; i < n_ls; i++) {
        if (strcmp(ls[i].region, lb->region) == 0 && strcmp(ls[i].lb_name, lb->name) == 0) {
            p->listener_ports[p->n_listeners] = ls[i].lb_port;
            instance_ports[p->n_listeners++] = ls[i].instance_port;
        }
    }
    struct elb_instance_row *rows = NULL;
    size_t n = 0;
    if (elb_store_instance_list(call->app->db, lb->region, lb->name, &rows, &n) < 0)
        n = 0;
    p->b = xcalloc(n ? n : 1, sizeof(*p->b));
    for (size_t i = 0; i < n; i++) {
        bool draining = !rows[i].registered && rows[i].drain_until_ms > call->now_ms;
        if (!rows[i].registered && !draining)
            continue;
        struct elb_verdict v;
        struct ec2_api_instance inst;
        if (elb_verdict_of(call, lb, &rows[i], &v) < 0 ||
            ec2_api_instance_get(call, rows[i].instance_id, &inst) != 1)
            continue;
        struct elb_backend *b = &p->b[p->n++];
        snprintf(b->id, sizeof(b->id), "%s", rows[i].instance_id);
        snprintf(b->az, sizeof(b->az), "%s", inst.az);
        b->routable = v.routable;
        b->draining = draining;
        b->fault_at = UINT64_MAX; /* not read yet */
        b->host_ports = xcalloc(p->n_listeners ? p->n_listeners : 1, sizeof(int));
        for (size_t k = 0; k < p->n_listeners && inst.state_code == 16; k++)
            b->host_ports[k] = ec2_api_host_port(call, b->id, instance_ports[k], true);
    }
    free(rows);
    free(instance_ports);
}

/* Keeps the round-robin cursors of the pool being replaced, so a sync is not a reset. */
static void
pool_keep_cursors(struct elb_pool *p)
{
    const struct elb_pool *old = elb_dataplane_pool(p->region, p->name);
    if (!old)
        return;
    p->rr = old->rr;
    p->zone_rr = old->zone_rr;
    memcpy(p->zone_cursor, old->zone_cursor, sizeof(p->zone_cursor));
}

static bool
conn_kept(const struct conn *c)
{
    if (!listener_find(c->region, c->name, c->lb_port))
        return false;
    if (!c->be)
        return true;
    const struct elb_pool *p = elb_dataplane_pool(c->region, c->name);
    for (size_t i = 0; p && i < p->n; i++)
        if (strcmp(p->b[i].id, c->be->id) == 0)
            return true;
    return false;
}

/* An idle connection is kept while some load balancer still sends to its instance's port. */
static bool
idle_kept(const struct backend *be)
{
    for (size_t i = 0; i < dp.n_pools; i++) {
        const struct elb_pool *p = &dp.pools[i];
        for (size_t k = 0; k < p->n; k++) {
            if (strcmp(p->b[k].id, be->id) != 0)
                continue;
            for (size_t l = 0; l < p->n_listeners; l++)
                if (p->b[k].host_ports[l] == be->host_port)
                    return true;
        }
    }
    return false;
}

void
elb_dataplane_sync(struct app *app)
{
    attach(app);
    if (db_begin(app->db, true) < 0)
        return;
    struct elb_lb_row *lbs = NULL;
    struct elb_listener_row *ls = NULL;
    size_t n_lbs = 0, n_ls = 0;
    if (elb_store_lb_list(app->db, NULL, &lbs, &n_lbs) < 0 ||
        elb_store_listener_list(app->db, NULL, NULL, &ls, &n_ls) < 0) {
        db_rollback(app->db);
        free(lbs);
        free(ls);
        return;
    }
    struct elb_pool *pools = xcalloc(n_lbs ? n_lbs : 1, sizeof(*pools));
    for (size_t i = 0; i < n_lbs; i++) {
        struct aws_call call;
        elb_internal_call(app, lbs[i].region, &call);
        pool_build(&call, &lbs[i], ls, n_ls, &pools[i]);
        pool_keep_cursors(&pools[i]);
    }
    listeners_sync(app, ls, n_ls);
    if (db_commit(app->db) < 0)
        db_rollback(app->db);
    pools_free(dp.pools, dp.n_pools);
    dp.pools = pools;
    dp.n_pools = n_lbs;
    free(lbs);
    free(ls);
    /* Connections to an instance that left (draining over, or no draining) are cut. */
    struct conn *next;
    for (struct conn *c = dp.conns; c; c = next) {
        next = c->next;
        if (!conn_kept(c))
            conn_close(c);
    }
    struct backend *be_next;
    for (struct backend *be = dp.idle; be; be = be_next) {
        be_next = be->next;
        if (!idle_kept(be))
            backend_close(be);
    }
}

static void
sync_timer_freed(uv_handle_t *h)
{
    free(h);
}

static void
on_sync_timer(uv_timer_t *t)
{
    elb_dataplane_sync(t->data);
}

void
elb_dataplane_dirty(struct app *app)
{
    attach(app);
    if (!app->loop)
        return; /* no loop (unit tests): elb_dataplane_sync is called by hand */
    if (!dp.sync_timer) {
        /* A new one each time after a stop: the old one may still be closing (a reset
           followed by a call in the same loop pass). */
        dp.sync_timer = xmalloc(sizeof(*dp.sync_timer));
        uv_timer_init(app->loop, dp.sync_timer);
        dp.sync_timer->data = app;
    }
    uv_timer_start(dp.sync_timer, on_sync_timer, 0, 0);
}

void
elb_dataplane_stop(struct app *app)
{
    attach(app);
    while (dp.conns)
        conn_close(dp.conns);
    while (dp.idle)
        backend_close(dp.idle);
    while (dp.listeners) {
        struct listener *l = dp.listeners;
        dp.listeners = l->next;
        uv_close((uv_handle_t *)&l->server, listener_freed);
    }
    if (dp.sweep)
        vclock_timer_cancel(app->clock, dp.sweep);
    dp.sweep = 0;
    if (dp.sync_timer)
        uv_close((uv_handle_t *)dp.sync_timer, sync_timer_freed);
    dp.sync_timer = NULL;
    pools_free(dp.pools, dp.n_pools);
    dp.pools = NULL;
    dp.n_pools = 0;
}

int
elb_dataplane_pin(struct aws_call *call, const char *name, int lb_port, int host_port,
                  struct aws_err *err)
{
    struct app *app = call->app;
    attach(app);
    if (host_port < 1 || host_port > 65535)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "The host port %d is not valid: it must be between 1 and 65535.",
                           host_port);
    struct elb_listener_row *rows = NULL;
    size_t n = 0;
    if (elb_store_listener_list(app->db, NULL, NULL, &rows, &n) < 0)
        return elb_db_failed(err);
    const struct elb_listener_row *mine = NULL, *taken = NULL;
    for (size_t i = 0; i < n; i++) {
        bool same = strcmp(rows[i].region, call->region) == 0 &&
                    strcmp(rows[i].lb_name, name) == 0 && rows[i].lb_port == lb_port;
        if (same)
            mine = &rows[i];
        else if (rows[i].host_port == host_port)
            taken = &rows[i];
    }
    int ret = -1;
    if (!mine) {
        aws_err_setx(err, 400, "ListenerNotFound", true,
                     "Load balancer '%s' has no listener on port %d.", name, lb_port);
        goto out;
    }
    if (taken) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "The host port %d is in use by listener %d of load balancer '%s' (%s).",
                    host_port, taken->lb_port, taken->lb_name, taken->region);
        goto out;
    }
    struct listener *old = listener_find(call->region, name, lb_port);
    if (app->loop && !(old && old->host_port == host_port)) {
        /* The new port first: when it cannot be had, the old socket is still serving. */
        int uverr = 0;
        struct listener *l = listener_open(call->region, name, lb_port, host_port, &uverr);
        if (!l) {
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "The host port %d cannot be bound on 127.0.0.1: %s.", host_port,
                        uv_strerror(uverr));
            goto out;
        }
        listener_kind(l, mine->protocol);
        l->seen = true;
        if (old) {
            /* Connections it accepted are not the socket's: they go on. */
            for (struct listener **pp = &dp.listeners; *pp; pp = &(*pp)->next) {
                if (*pp == old) {
                    *pp = old->next;
                    break;
                }
            }
            uv_close((uv_handle_t *)&old->server, listener_freed);
        }
        l->next = dp.listeners;
        dp.listeners = l;
    }
    if (elb_store_listener_set_host_port(app->db, call->region, name, lb_port, host_port) < 0) {
        elb_db_failed(err);
        goto out;
    }
    elb_dataplane_dirty(app);
    ret = 0;
out:
    free(rows);
    return ret;
}
