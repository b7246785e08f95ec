/*
 * `fogbank ctl`: one table row per command (words, HTTP method, control path, how to build
 * the body, how to print the answer), one libcurl request per run. It knows the control
 * API's JSON, never the server's internals.
 */
#include "common.h"
#include "ctl.h"

#include "app.h"
#include "buf.h"
#include "clock.h"
#include "control.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>

enum {
    CTL_OK = 0,
    CTL_FAILED = 1,
    CTL_USAGE = 2,
};

/* Builds the request body from the command's argument; -1 (usage message printed) on bad input. */
typedef int ctl_body_fn(const char *arg, struct buf *body);
/* Prints the human summary of a successful answer. */
typedef void ctl_print_fn(const cJSON *answer);

static int body_advance(const char *arg, struct buf *body);
static int body_scale(const char *arg, struct buf *body);
static void print_health(const cJSON *answer);
static void print_reset(const cJSON *answer);
static void print_clock(const cJSON *answer);

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
    ctl_body_fn *body;    /* NULL: no body */
    ctl_print_fn *print;  /* human output */
} ctl_cmds[] = {
    { "clock", NULL, NULL, "GET", "clock", NULL, print_clock },
    { "clock", "advance", "DURATION", "POST", "clock/advance", body_advance, print_clock },
    { "clock", "scale", "N", "POST", "clock/scale", body_scale, print_clock },
    { "clock", "show", NULL, "GET", "clock", NULL, print_clock },
    { "health", NULL, NULL, "GET", "health", NULL, print_health },
    { "reset", NULL, NULL, "POST", "reset", NULL, print_reset },
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
          "\n"
          "Options:\n"
          "  --endpoint URL  the server (default: $FOGBANK_ENDPOINT, else " CTL_DEFAULT_ENDPOINT
          ")\n"
          "  --json          print the server's JSON answer instead of a summary\n"
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
body_advance(const char *arg, struct buf *body)
{
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
body_scale(const char *arg, struct buf *body)
{
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

/* ---- the request ---- */

static size_t
on_curl_data(char *data, size_t size, size_t n, void *arg)
{
    buf_add(arg, data, size * n);
    return size * n;
}

/* Sends one request; fills *status and answer. -1 (message printed) when there is no answer. */
static int
ctl_request(const char *endpoint, const struct ctl_cmd *cmd, const struct buf *body, long *status,
            struct buf *answer)
{
    struct buf url = BUF_INIT;
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    buf_add(&url, endpoint, n);
    buf_adds(&url, CONTROL_PREFIX);
    buf_adds(&url, cmd->path);

    CURL *curl = curl_easy_init();
    if (!curl)
        die("ctl: curl_easy_init failed");
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url.data);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    /* Advancing over many timers can take a while; never hang forever though. */
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
    /* A proxy from the environment must not swallow requests to a local emulator. */
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "fogbank-ctl/" FB_VERSION);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_curl_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    if (strcmp(cmd->method, "POST") == 0) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body->len);
    }
    CURLcode rc = curl_easy_perform(curl);
    int ret = 0;
    if (rc != CURLE_OK) {
        fprintf(stderr, "fogbank ctl: cannot reach fogbank at %.*s: %s\n", (int)n, endpoint,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
        ret = -1;
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    buf_release(&url);
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
run(const char *endpoint, const struct ctl_cmd *cmd, const char *arg, bool json)
{
    struct buf body = BUF_INIT;
    struct buf answer = BUF_INIT;
    long status = 0;
    int ret = CTL_FAILED;
    if (cmd->body && cmd->body(arg, &body) < 0) {
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
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *endpoint = getenv("FOGBANK_ENDPOINT");
    if (!endpoint || !*endpoint)
        endpoint = CTL_DEFAULT_ENDPOINT;
    bool json = false;
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
    if (!str_starts(endpoint, "http://") && !str_starts(endpoint, "https://"))
        return usage_error("invalid endpoint '%s' (want http://HOST:PORT)", endpoint);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    int ret = run(endpoint, cmd, arg, json);
    curl_global_cleanup();
    return ret;
}
