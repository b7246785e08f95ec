/*
 * `fogbank ctl`: one table row per command (words, HTTP method, control path, how to build
 * the body, how to print the answer), one plain HTTP/1.1 request per run. It knows the control
 * API's JSON, never the server's internals.
 */
#include "common.h"
#include "ctl.h"

#include "app.h"
#include "buf.h"
#include "clock.h"
#include "control.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>

enum {
    CTL_OK = 0,
    CTL_FAILED = 1,
    CTL_USAGE = 2,
};

struct ctl_cmd;

/* What a body builder gets: the command's one argument and the options that feed bodies. */
struct ctl_args {
    const char *arg;  /* the command's argument, or NULL */
    const char *name; /* --name (image import), or NULL */
};

/* Builds the request body from the command's argument; -1 (usage message printed) on bad input. */
typedef int ctl_body_fn(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body);
/* Prints the human summary of a successful answer. */
typedef void ctl_print_fn(const cJSON *answer);

static int body_advance(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body);
static int body_scale(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body);
static int body_fault(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body);
static int body_import(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body);
static int body_since(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body);
static int body_pin(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body);
static void print_faults(const cJSON *answer);
static void print_image(const cJSON *answer);
static void print_pin(const cJSON *answer);
static void print_status(const cJSON *answer);
static void print_health(const cJSON *answer);
static void print_reset(const cJSON *answer);
static void print_clock(const cJSON *answer);
static void print_events(const cJSON *answer);

/*
 * Adding a command: a row here (its words as typed, whether it takes an argument, the
 * control route it calls), a body builder if it sends one, a printer, and a line in
 * ctl_usage.
 */
static const struct ctl_cmd {
    const char *word;     /* first word: "clock" */
    const char *sub;      /* second word, or NULL */
    const char *arg_name; /* the one argument it takes ("DURATION"), or NULL */
    const char *method;   /* "GET" or "POST" */
    const char *path;     /* below CONTROL_PREFIX */
    ctl_body_fn *body;    /* NULL: no body; for a GET, it writes the query string */
    ctl_print_fn *print;  /* human output */
} ctl_cmds[] = {
    { "clock", NULL, NULL, "GET", "clock", NULL, print_clock },
    { "clock", "advance", "DURATION", "POST", "clock/advance", body_advance, print_clock },
    { "clock", "scale", "N", "POST", "clock/scale", body_scale, print_clock },
    { "clock", "show", NULL, "GET", "clock", NULL, print_clock },
    { "elb", "pin", "NAME:PORT=HOST_PORT", "POST", "elb", body_pin, print_pin },
    { "events", NULL, NULL, "GET", "events", NULL, print_events },
    { "events", NULL, "SINCE", "GET", "events", body_since, print_events },
    { "fault", "az-down", "AZ", "POST", "faults", body_fault, print_faults },
    { "fault", "az-up", "AZ", "POST", "faults", body_fault, print_faults },
    { "fault", "clear", NULL, "POST", "faults", body_fault, print_faults },
    { "fault", "clear", "INSTANCE_ID", "POST", "faults", body_fault, print_faults },
    { "fault", "hang", "INSTANCE_ID", "POST", "faults", body_fault, print_faults },
    { "fault", "health-fail", "INSTANCE_ID", "POST", "faults", body_fault, print_faults },
    { "fault", "kill", "INSTANCE_ID", "POST", "faults", body_fault, print_faults },
    { "fault", "list", NULL, "POST", "faults", body_fault, print_faults },
    { "health", NULL, NULL, "GET", "health", NULL, print_health },
    { "image", "import", "DIR|TARBALL", "POST", "images/import", body_import, print_image },
    { "reset", NULL, NULL, "POST", "reset", NULL, print_reset },
    { "status", NULL, NULL, "GET", "status", NULL, print_status },
};

static void
ctl_usage(FILE *out)
{
    fputs("usage: fogbank ctl [--endpoint URL] [--json] <command> [<args>]\n"
          "\n"
          "Talk to a running fogbank server through its control API.\n"
          "\n"
          "Commands:\n"
          "  health                  show that the server is up, its version and uptime\n"
          "  reset                   delete every resource (the clock keeps its time)\n"
          "  clock [show]            show the virtual clock\n"
          "  clock advance DURATION  jump the clock forward, firing the timers that fall due\n"
          "                          (DURATION: 90s, 10m, 2h, 1d, 250ms, 1h30m; a bare number\n"
          "                          is seconds)\n"
          "  clock scale N           run the clock N times as fast as real time (0 freezes it)\n"
          "  status                  the instances (id, state, zone, private IP, pids, ports) and\n"
          "                          the load balancers' listeners and their loopback ports\n"
          "                          and the Auto Scaling groups' launches, billed hours and\n"
          "                          launch-loop alarm\n"
          "  events [SINCE]          what happened (launches, terminations, hook timeouts,\n"
          "                          alarms), after event number SINCE\n"
          "  fault kill INSTANCE_ID  kill an instance's processes (it stays running, impaired)\n"
          "  fault hang INSTANCE_ID  freeze an instance's processes\n"
          "  fault health-fail INSTANCE_ID  make its load-balancer health checks fail\n"
          "  fault az-down AZ        fail a zone: its instances die, launches there fail\n"
          "  fault az-up AZ          restore a zone (its running instances boot again)\n"
          "  fault clear [INSTANCE_ID]  undo faults (a killed instance boots again)\n"
          "  fault list              the faults in force\n"
          "  elb pin NAME:PORT=HOST_PORT  serve listener PORT of load balancer NAME on\n"
          "                          127.0.0.1:HOST_PORT (region: $AWS_REGION, else\n"
          "                          us-east-1); a port in use is refused\n"
          "  image import DIR|TARBALL [--name N]  make an AMI from files\n"
          "\n"
          "Options:\n"
          "  --endpoint URL  the server (default: $FOGBANK_ENDPOINT, else " CTL_DEFAULT_ENDPOINT
          ")\n"
          "  --json          print the server's JSON answer instead of a summary\n"
          "  --name N        the name of an imported image\n"
          "  -h, --help      show this help and exit\n"
          "\n"
          "Exit status: 0 success, 1 failure (server unreachable or an error answer), 2 usage.\n",
          out);
}

static int usage_error(const char *fmt, ...) FB_PRINTF(1, 2);

static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fogbank ctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'fogbank ctl --help'.\n", stderr);
    va_end(ap);
    return CTL_USAGE;
}

/* ---- bodies ---- */

static void
body_json(struct buf *body, cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    if (!text)
        die("ctl: out of memory printing JSON");
    buf_adds(body, text);
    cJSON_free(text);
    cJSON_Delete(obj);
}

static int
body_advance(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body)
{
    (void)cmd;
    const char *arg = args->arg;
    int64_t ms;
    if (duration_parse(arg, &ms) < 0) {
        usage_error("invalid duration '%s' (examples: 90s, 10m, 1h30m, 1d, 250ms)", arg);
        return -1;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "by", arg);
    body_json(body, obj);
    return 0;
}

static int
body_scale(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body)
{
    (void)cmd;
    const char *arg = args->arg;
    char *end;
    double scale = strtod(arg, &end);
    if (end == arg || *end || !isfinite(scale) || scale < 0) {
        usage_error("invalid time scale '%s' (want a number >= 0)", arg);
        return -1;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "scale", scale);
    body_json(body, obj);
    return 0;
}

/* {"action": "<sub-command>", "instance_id" | "az": ARG} for POST /_fogbank/faults. */
static int
body_fault(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "action", cmd->sub);
    if (args->arg)
        cJSON_AddStringToObject(obj, str_starts(cmd->sub, "az-") ? "az" : "instance_id", args->arg);
    body_json(body, obj);
    return 0;
}

/*
 * {"action": "pin", "load_balancer": NAME, "load_balancer_port": PORT, "host_port": HOST_PORT,
 * "region": $AWS_REGION} for POST /_fogbank/elb, from "NAME:PORT=HOST_PORT".
 */
static int
body_pin(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body)
{
    const char *colon = strrchr(args->arg, ':');
    char *end1 = NULL, *end2 = NULL;
    long port = colon ? strtol(colon + 1, &end1, 10) : 0;
    long host_port = end1 && *end1 == '=' ? strtol(end1 + 1, &end2, 10) : 0;
    if (!colon || colon == args->arg || !end2 || *end2 || end2 == end1 + 1 || port < 1 ||
        port > 65535 || host_port < 1 || host_port > 65535) {
        usage_error("invalid listener '%s' (want NAME:PORT=HOST_PORT, e.g. web:80=8080)",
                    args->arg);
        return -1;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "action", cmd->sub);
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)(colon - args->arg), args->arg);
    cJSON_AddStringToObject(obj, "load_balancer", name);
    cJSON_AddNumberToObject(obj, "load_balancer_port", (double)port);
    cJSON_AddNumberToObject(obj, "host_port", (double)host_port);
    const char *region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (region && *region)
        cJSON_AddStringToObject(obj, "region", region);
    body_json(body, obj);
    return 0;
}

/* "since=N": the query string of GET /_fogbank/events. */
static int
body_since(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body)
{
    (void)cmd;
    const char *arg = args->arg;
    if (!arg[0] || strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 15) {
        usage_error("invalid event number '%s' (want a whole number >= 0)", arg);
        return -1;
    }
    buf_addf(body, "since=%s", arg);
    return 0;
}

/* {"path": absolute path, "name": N}: the server may run in another directory. */
static int
body_import(const struct ctl_cmd *cmd, const struct ctl_args *args, struct buf *body)
{
    (void)cmd;
    char *abs = realpath(args->arg, NULL);
    if (!abs) {
        usage_error("cannot read '%s': %s", args->arg, strerror(errno));
        return -1;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "path", abs);
    if (args->name)
        cJSON_AddStringToObject(obj, "name", args->name);
    free(abs);
    body_json(body, obj);
    return 0;
}

/* ---- printers ---- */

static const char *
str_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

static double
num_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void
print_pin(const cJSON *answer)
{
    printf("ok  %s:%.0f -> 127.0.0.1:%.0f  (%s)\n", str_member(answer, "load_balancer"),
           num_member(answer, "load_balancer_port"), num_member(answer, "host_port"),
           str_member(answer, "dns_name"));
}

static void
print_health(const cJSON *answer)
{
    printf("%s  version %s  uptime %.1fs\n", str_member(answer, "status"),
           str_member(answer, "version"), num_member(answer, "uptime_seconds"));
}

static void
print_reset(const cJSON *answer)
{
    (void)answer;
    printf("ok  state reset\n");
}

static void
print_clock(const cJSON *answer)
{
    printf("%s  scale %g  timers %.0f", str_member(answer, "now"), num_member(answer, "scale"),
           num_member(answer, "timers"));
    if (cJSON_GetObjectItemCaseSensitive(answer, "fired"))
        printf("  fired %.0f", num_member(answer, "fired"));
    putchar('\n');
}

static void
print_faults(const cJSON *answer)
{
    const cJSON *faults = cJSON_GetObjectItemCaseSensitive(answer, "faults");
    if (cJSON_GetArraySize(faults) == 0) {
        printf("no faults in force\n");
        return;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, faults)
    {
        printf("%-8s %-22s since %s\n", str_member(f, "kind"), str_member(f, "target"),
               str_member(f, "since"));
    }
}

static void
print_image(const cJSON *answer)
{
    printf("%s\n", str_member(answer, "ImageId"));
}

/* One line per event: SEQ TIME KIND DETAIL (compact JSON). */
static void
print_events(const cJSON *answer)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(answer, "events"))
    {
        char *detail = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(e, "detail"));
        printf("%-6.0f %s  %-28s %s\n", num_member(e, "seq"), str_member(e, "time"),
               str_member(e, "kind"), detail ? detail : "{}");
        cJSON_free(detail);
    }
}

/* The Auto Scaling groups with their launch counts and what those launches would be billed. */
static void
print_groups(const cJSON *answer)
{
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(answer, "autoscaling"), "groups");
    if (cJSON_GetArraySize(groups) == 0)
        return;
    printf("\n%-24s %-7s %-9s %-8s %-12s %-14s %-14s %s\n", "GROUP", "DESIRED", "INSERVICE",
           "LAUNCHES", "TERMINATIONS", "BILLED-H(1s)", "BILLED-H(1h)", "LOOP");
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        int in_service = 0;
        const cJSON *i;
        cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(g, "instances"))
        {
            in_service += strcmp(str_member(i, "state"), "InService") == 0;
        }
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(g, "launches");
        const cJSON *loop = cJSON_GetObjectItemCaseSensitive(l, "loop");
        printf("%-24s %-7.0f %-9d %-8.0f %-12.0f %-14.4f %-14.0f %s\n", str_member(g, "name"),
               num_member(g, "desired"), in_service, num_member(l, "total"),
               num_member(l, "terminations"), num_member(l, "billed_hours_per_second"),
               num_member(l, "billed_hours_hourly"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(loop, "alarm")) ? "ALARM" : "ok");
    }
}

/* The instances as a table: ID STATE AZ PRIVATE-IP PIDS PORTS. */
static void
print_status(const cJSON *answer)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(answer, "instances");
    printf("%-20s %-14s %-12s %-15s %-6s %s\n", "INSTANCE", "STATE", "AZ", "PRIVATE-IP", "PIDS",
           "PORTS");
    const cJSON *inst;
    cJSON_ArrayForEach(inst, list)
    {
        struct buf ports = BUF_INIT;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(inst, "ports"))
        {
            buf_addf(&ports, "%s%s->%d", ports.len ? " " : "", p->string, p->valueint);
        }
        printf("%-20s %-14s %-12s %-15s %-6d %s\n", str_member(inst, "id"),
               str_member(inst, "state"), str_member(inst, "az"), str_member(inst, "private_ip"),
               cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(inst, "pids")), ports.data);
        buf_release(&ports);
    }
    print_groups(answer);
    /* The load balancers' listeners: where each accepts on loopback. */
    const cJSON *lbs = cJSON_GetObjectItemCaseSensitive(answer, "load_balancers");
    if (cJSON_GetArraySize(lbs) == 0)
        return;
    printf("\n%-32s %-56s %s\n", "LOAD-BALANCER", "DNS-NAME", "LISTENERS");
    const cJSON *lb;
    cJSON_ArrayForEach(lb, lbs)
    {
        struct buf ls = BUF_INIT;
        const cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(lb, "listeners"))
        {
            buf_addf(&ls, "%s%s:%.0f->127.0.0.1:%.0f", ls.len ? " " : "", str_member(l, "protocol"),
                     num_member(l, "load_balancer_port"), num_member(l, "host_port"));
        }
        printf("%-32s %-56s %s\n", str_member(lb, "name"), str_member(lb, "dns_name"), ls.data);
        buf_release(&ls);
    }
}

/* ---- the request ---- */

/*
 * The transport is a plain HTTP/1.1 exchange over one TCP connection ("Connection: close",
 * read to EOF). ctl only ever talks to fogbank's own control API, whose answers always carry
 * Content-Length; linking libcurl for that cost every fogbank start ~10 ms of dynamic loading
 * (32 libraries), which the start-up budget (20 ms) cannot afford.
 */
#define CTL_TIMEOUT_MS 600000 /* advancing over many timers can take a while; never hang */

struct endpoint {
    char host[256]; /* host name or address, without brackets */
    char port[8];   /* decimal port */
    char base[512]; /* path prefix, without a trailing '/' */
};

/* Splits http://HOST[:PORT][/PATH]; -1 if it is not of that form. */
static int
endpoint_parse(const char *url, struct endpoint *ep)
{
    if (!str_starts(url, "http://"))
        return -1;
    const char *h = url + strlen("http://");
    const char *host_end, *after;
    if (*h == '[') {
        host_end = strchr(h, ']');
        if (!host_end)
            return -1;
        h++;
        after = host_end + 1;
    } else {
        host_end = h + strcspn(h, ":/");
        after = host_end;
    }
    size_t hl = (size_t)(host_end - h);
    if (hl == 0 || hl >= sizeof(ep->host))
        return -1;
    memcpy(ep->host, h, hl);
    ep->host[hl] = '\0';
    snprintf(ep->port, sizeof(ep->port), "80");
    if (*after == ':') {
        size_t pl = strspn(after + 1, "0123456789");
        if (pl == 0 || pl >= sizeof(ep->port))
            return -1;
        memcpy(ep->port, after + 1, pl);
        ep->port[pl] = '\0';
        after += 1 + pl;
    }
    if (*after && *after != '/')
        return -1;
    size_t bl = strlen(after);
    while (bl > 0 && after[bl - 1] == '/')
        bl--;
    if (bl >= sizeof(ep->base))
        return -1;
    memcpy(ep->base, after, bl);
    ep->base[bl] = '\0';
    return 0;
}

/* Connects to the endpoint; -1 with a message in why. */
static int
ctl_connect(const struct endpoint *ep, char *why, size_t whysz)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(ep->host, ep->port, &hints, &res);
    if (rc != 0) {
        snprintf(why, whysz, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = { CTL_TIMEOUT_MS / 1000, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        snprintf(why, whysz, "%s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Splits a raw HTTP/1.1 answer into status and body; -1 if it is not one. */
static int
parse_answer(const struct buf *raw, long *status, struct buf *answer)
{
    int code = 0;
    if (sscanf(raw->data, "HTTP/1.%*d %3d", &code) != 1 || code < 100)
        return -1;
    const char *body = strstr(raw->data, "\r\n\r\n");
    if (!body)
        return -1;
    body += 4;
    size_t n = raw->len - (size_t)(body - raw->data);
    /* Honour Content-Length when present so trailing bytes never leak into the JSON. */
    const char *cl = strcasestr(raw->data, "\r\nContent-Length:");
    if (cl && cl < body) {
        unsigned long long want = strtoull(cl + strlen("\r\nContent-Length:"), NULL, 10);
        if (want < n)
            n = (size_t)want;
    }
    *status = code;
    buf_add(answer, body, n);
    return 0;
}

/* Sends one request; fills *status and answer. -1 (message printed) when there is no answer. */
static int
ctl_request(const char *endpoint, const struct ctl_cmd *cmd, const struct buf *body, long *status,
            struct buf *answer)
{
    struct endpoint ep;
    if (endpoint_parse(endpoint, &ep) < 0) {
        fprintf(stderr, "fogbank ctl: invalid endpoint '%s' (want http://HOST:PORT)\n", endpoint);
        return -1;
    }
    char why[256] = "connection failed";
    int fd = ctl_connect(&ep, why, sizeof(why));
    if (fd < 0) {
        fprintf(stderr, "fogbank ctl: cannot reach fogbank at %s: %s\n", endpoint, why);
        return -1;
    }
    bool post = strcmp(cmd->method, "POST") == 0;
    struct buf req = BUF_INIT, raw = BUF_INIT;
    bool v6 = strchr(ep.host, ':') != NULL;
    /* A GET's "body" is its query string. */
    buf_addf(&req, "%s %s%s%s%s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\n", cmd->method, ep.base,
             CONTROL_PREFIX, cmd->path, !post && body->len ? "?" : "", !post ? body->data : "",
             v6 ? "[" : "", ep.host, v6 ? "]" : "", ep.port);
    buf_adds(&req, "User-Agent: fogbank-ctl/" FB_VERSION "\r\nConnection: close\r\n");
    if (post)
        buf_addf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body->len);
    buf_adds(&req, "\r\n");
    if (post)
        buf_add(&req, body->data, body->len);

    int ret = -1;
    if (write_all(fd, req.data, req.len) == 0) {
        char chunk[4096];
        ssize_t r;
        while ((r = recv(fd, chunk, sizeof(chunk), 0)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            buf_add(&raw, chunk, (size_t)r);
        }
        if (r == 0 && parse_answer(&raw, status, answer) == 0)
            ret = 0;
    }
    if (ret < 0)
        fprintf(stderr, "fogbank ctl: no valid answer from fogbank at %s: %s\n", endpoint,
                errno ? strerror(errno) : "malformed response");
    close(fd);
    buf_release(&req);
    buf_release(&raw);
    return ret;
}

static const struct ctl_cmd *
find_cmd(char **words, int n_words, const char **arg)
{
    *arg = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(ctl_cmds); i++) {
        const struct ctl_cmd *c = &ctl_cmds[i];
        int want = 1 + (c->sub != NULL) + (c->arg_name != NULL);
        if (n_words != want || strcmp(words[0], c->word) != 0)
            continue;
        if (c->sub && strcmp(words[1], c->sub) != 0)
            continue;
        if (c->arg_name)
            *arg = words[want - 1];
        return c;
    }
    return NULL;
}

static int
run(const char *endpoint, const struct ctl_cmd *cmd, const struct ctl_args *args, bool json)
{
    struct buf body = BUF_INIT;
    struct buf answer = BUF_INIT;
    long status = 0;
    int ret = CTL_FAILED;
    if (cmd->body && cmd->body(cmd, args, &body) < 0) {
        ret = CTL_USAGE;
        goto out;
    }
    if (ctl_request(endpoint, cmd, &body, &status, &answer) < 0)
        goto out;
    cJSON *obj = cJSON_ParseWithLength(answer.data, answer.len);
    if (status >= 200 && status < 300 && cJSON_IsObject(obj)) {
        if (json) {
            fwrite(answer.data, 1, answer.len, stdout);
            if (answer.len == 0 || answer.data[answer.len - 1] != '\n')
                putchar('\n');
        } else {
            cmd->print(obj);
        }
        ret = CTL_OK;
    } else {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "message");
        if (cJSON_IsString(msg))
            fprintf(stderr, "fogbank ctl: %s\n", msg->valuestring);
        else
            fprintf(stderr, "fogbank ctl: unexpected answer (HTTP %ld) from %s%s%s\n", status,
                    endpoint, CONTROL_PREFIX, cmd->path);
    }
    cJSON_Delete(obj);
out:
    buf_release(&body);
    buf_release(&answer);
    return ret;
}

int
ctl_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "json", no_argument, NULL, 'j' },
        { "name", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *endpoint = getenv("FOGBANK_ENDPOINT");
    if (!endpoint || !*endpoint)
        endpoint = CTL_DEFAULT_ENDPOINT;
    bool json = false;
    const char *name = NULL;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'e':
            endpoint = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'n':
            name = optarg;
            break;
        case 'h':
            ctl_usage(stdout);
            return CTL_OK;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                return usage_error("unknown option '-%c'", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        ctl_usage(stderr);
        return CTL_USAGE;
    }
    const char *arg;
    const struct ctl_cmd *cmd = find_cmd(argv + optind, argc - optind, &arg);
    if (!cmd) {
        for (size_t i = 0; i < ARRAY_SIZE(ctl_cmds); i++)
            if (strcmp(ctl_cmds[i].word, argv[optind]) == 0)
                return usage_error("wrong arguments for '%s'", argv[optind]);
        return usage_error("unknown command '%s'", argv[optind]);
    }
    struct endpoint ep;
    if (endpoint_parse(endpoint, &ep) < 0)
        return usage_error("invalid endpoint '%s' (want http://HOST:PORT)", endpoint);
    struct ctl_args args = { arg, name };
    return run(endpoint, cmd, &args, json);
}
