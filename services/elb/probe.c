/*
 * The real prober: one health check's network exchange on the libuv loop. TCP and SSL
 * targets pass when the connection opens (the TLS handshake is not attempted: fogbank does
 * not terminate TLS); HTTP and HTTPS targets send "GET <path>" over plain HTTP and pass on a
 * 200 status (parsed with http-parser), anything else fails (AWS-NOTES 4.1). Without a loop
 * (unit tests) a probe cannot start and fails.
 */
#include "emulator/common.h"
#include "services/elb/elb_internal.h"
#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"

#include <http_parser.h>
#include <uv.h>

/* The real-time grace a probe gets besides its virtual Timeout, at most, in ms. */
#define PROBE_REAL_GRACE_MAX_MS 1000

struct probe_net {
    uv_tcp_t tcp;            /* the connection; its data points here */
    uv_connect_t connect;    /* the connect request */
    uv_write_t write;        /* the request write */
    uv_timer_t grace;        /* the real-time grace */
    struct elb_probe *probe; /* NULL once cancelled or answered */
    struct buf request;      /* the HTTP request text */
    http_parser parser;      /* the response parser */
    int status;              /* the response status, 0 until known */
    int open_handles;        /* handles to close before freeing */
    bool tcp_only;           /* TCP/SSL: the connection opening is the answer */
};

static void
net_closed(uv_handle_t *h)
{
    struct probe_net *n = h->data;
    if (--n->open_handles == 0) {
        buf_release(&n->request);
        free(n);
    }
}

static void
net_close(struct probe_net *n)
{
    if (!uv_is_closing((uv_handle_t *)&n->tcp))
        uv_close((uv_handle_t *)&n->tcp, net_closed);
    if (!uv_is_closing((uv_handle_t *)&n->grace))
        uv_close((uv_handle_t *)&n->grace, net_closed);
}

/* Reports the verdict once and closes everything. */
static void
net_answer(struct probe_net *n, bool ok)
{
    struct elb_probe *p = n->probe;
    n->probe = NULL;
    net_close(n);
    if (p)
        elb_probe_result(p, ok);
}

static int
on_headers_complete(http_parser *hp)
{
    struct probe_net *n = hp->data;
    n->status = (int)hp->status_code;
    return 1;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char slab[4096];
    *b = uv_buf_init(slab, sizeof(slab));
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct probe_net *n = s->data;
    if (!n->probe)
        return;
    if (nread < 0) {
        net_answer(n, n->status == 200);
        return;
    }
    static const http_parser_settings settings = { .on_headers_complete = on_headers_complete };
    http_parser_execute(&n->parser, &settings, b->base, (size_t)nread);
    if (n->status)
        net_answer(n, n->status == 200);
    else if (HTTP_PARSER_ERRNO(&n->parser) != HPE_OK)
        net_answer(n, false);
}

static void
on_write(uv_write_t *w, int status)
{
    struct probe_net *n = w->data;
    if (status < 0 && n->probe)
        net_answer(n, false);
}

static void
on_connect(uv_connect_t *c, int status)
{
    struct probe_net *n = c->data;
    if (!n->probe)
        return;
    if (status < 0) {
        net_answer(n, false);
        return;
    }
    if (n->tcp_only) {
        net_answer(n, true);
        return;
    }
    http_parser_init(&n->parser, HTTP_RESPONSE);
    n->parser.data = n;
    uv_buf_t b = uv_buf_init(n->request.data, (unsigned)n->request.len);
    n->write.data = n;
    if (uv_write(&n->write, (uv_stream_t *)&n->tcp, &b, 1, on_write) < 0 ||
        uv_read_start((uv_stream_t *)&n->tcp, on_alloc, on_read) < 0)
        net_answer(n, false);
}

static void
on_grace(uv_timer_t *t)
{
    struct probe_net *n = t->data;
    if (n->probe)
        elb_probe_real_expired(n->probe);
}

static int
real_start(struct elb_probe *p)
{
    uv_loop_t *loop = p->app->loop;
    if (!loop)
        return -1;
    struct probe_net *n = xcalloc(1, sizeof(*n));
    n->probe = p;
    buf_init(&n->request);
    n->tcp_only = strcmp(p->target.protocol, "TCP") == 0 || strcmp(p->target.protocol, "SSL") == 0;
    buf_addf(&n->request,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: ELB-HealthChecker/1.0\r\n"
             "Accept: */*\r\nConnection: close\r\n\r\n",
             p->target.path, p->host_port);
    uv_tcp_init(loop, &n->tcp);
    uv_timer_init(loop, &n->grace);
    n->tcp.data = n->grace.data = n->connect.data = n;
    n->open_handles = 2;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", p->host_port, &addr);
    if (uv_tcp_connect(&n->connect, &n->tcp, (const struct sockaddr *)&addr, on_connect) < 0) {
        n->probe = NULL;
        net_close(n);
        return -1;
    }
    /* The grace is the Timeout in real time at the clock's rate, at most a second: a frozen
       clock advanced past the Timeout still gives the instance a moment to answer. */
    double scale = vclock_scale(p->app->clock);
    int64_t grace = PROBE_REAL_GRACE_MAX_MS;
    if (scale > 0 && (double)p->timeout_ms / scale < grace)
        grace = (int64_t)((double)p->timeout_ms / scale);
    uv_timer_start(&n->grace, on_grace, (uint64_t)grace, 0);
    p->net = n;
    return 0;
}

static void
real_cancel(struct elb_probe *p)
{
    struct probe_net *n = p->net;
    if (!n)
        return;
    n->probe = NULL;
    p->net = NULL;
    net_close(n);
}

const struct elb_prober elb_real_prober = { real_start, real_cancel };
