/*
 * The `fogbank` command: one table row per subcommand (serve, ctl, version), option parsing,
 * and the life of a server — build struct app, listen, run the loop until SIGINT/SIGTERM,
 * tear everything down. It holds no AWS behaviour; exit statuses: 0 ok, 1 failure, 2 usage.
 */
#include "common.h"

#include "app.h"
#include "buf.h"
#include "clock.h"
#include "ctl.h"
#include "events.h"
#include "http.h"
#include "ids.h"
#include "log.h"
#include "model.h"
#include "service.h"
#include "instances/sup.h"
#include "../state/db.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define EXIT_USAGE 2

#define DEFAULT_LISTEN     "127.0.0.1"
#define DEFAULT_PORT       4566
#define DEFAULT_DNS_PORT   4553
#define DEFAULT_ACCOUNT_ID "123456789012"
#define DEFAULT_MAX_BODY   ((size_t)32 * 1024 * 1024)

typedef int cmd_fn(int argc, char **argv);

static int cmd_serve(int argc, char **argv);
static int cmd_ctl(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* Adding a subcommand: a row here, its cmd_ function with its own --help, a line below. */
static const struct command {
    const char *name;    /* as typed after `fogbank` */
    cmd_fn *fn;          /* gets argv starting at the subcommand's name */
    const char *summary; /* one line for `fogbank --help` */
} commands[] = {
    { "ctl", cmd_ctl, "talk to a running server: health, reset, clock" },
    { "serve", cmd_serve, "run the emulator (AWS APIs and /_fogbank on one port)" },
    { "version", cmd_version, "print the version" },
};

static void
main_usage(FILE *out)
{
    fputs("usage: fogbank <command> [<args>]\n"
          "\n"
          "A local AWS cloud for offline testing: EC2, Auto Scaling, ELB, Route53,\n"
          "CloudFormation and CodeDeploy behind one endpoint, with a controllable clock.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Options:\n"
          "  -h, --help     show this help and exit\n"
          "  --version      print the version and exit\n"
          "\n"
          "Run 'fogbank <command> --help' for the options of a command.\n",
          out);
}

static int usage_error(const char *cmd, const char *fmt, ...) FB_PRINTF(2, 3);

/* Prints "fogbank[ cmd]: <message>" and a hint to stderr; returns EXIT_USAGE. */
static int
usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fogbank%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'fogbank%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
    va_end(ap);
    return EXIT_USAGE;
}

/* ---- version, ctl ---- */

static int
cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: fogbank version\n\nPrint the version of fogbank and exit.\n");
        return 0;
    }
    if (argc > 1)
        return usage_error("version", "unexpected argument '%s'", argv[1]);
    printf("fogbank %s\n", FB_VERSION);
    return 0;
}

static int
cmd_ctl(int argc, char **argv)
{
    return ctl_main(argc, argv);
}

/* ---- serve: options ---- */

static void
serve_usage(FILE *out)
{
    fputs("usage: fogbank serve [options]\n"
          "\n"
          "Run the emulator: the AWS APIs and the /_fogbank control API on one HTTP port,\n"
          "until SIGINT or SIGTERM.\n"
          "\n"
          "Options:\n"
          "  --listen ADDR      address to bind, an IPv4 or IPv6 literal (default " DEFAULT_LISTEN
          ")\n"
          "  --port N           TCP port; 0 picks a free one (default 4566)\n"
          "  --dns-port N       Route53's DNS server port on 127.0.0.1 (UDP and TCP); 0 picks\n"
          "                     a free one (default 4553)\n"
          "  --state PATH       SQLite state file, or :memory: for a throw-away state\n"
          "                     (default $XDG_STATE_HOME/fogbank/state.db, else\n"
          "                     ~/.local/state/fogbank/state.db)\n"
          "  --time-scale N     virtual seconds per real second; 0 freezes the clock so it\n"
          "                     moves only when advanced (default 1)\n"
          "  --seed N           seed of generated ids, for reproducible runs (default random)\n"
          "  --account-id ID    12-digit AWS account id (default " DEFAULT_ACCOUNT_ID ")\n"
          "  --max-body BYTES   largest request body accepted; K, M, G suffixes allowed\n"
          "                     (default 32M)\n"
          "  --instance-limit N running EC2 instances per region before RunInstances answers\n"
          "                     InstanceLimitExceeded (default 64)\n"
          "  -q, --quiet        do not log every request\n"
          "  -h, --help         show this help and exit\n",
          out);
}

static int
parse_port(const char *s, int *port)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < 0 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

static int
parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

static int
parse_scale(const char *s, double *scale)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < 0)
        return -1;
    *scale = v;
    return 0;
}

/* "1048576", "512K", "32M", "1G" (binary multiples; "KiB"/"MiB"/"GiB" and "B" accepted). */
static int
parse_size(const char *s, size_t *out)
{
    static const struct {
        const char *suffix; /* case-insensitive */
        uint64_t mult;      /* bytes per unit */
    } units[] = {
        { "", 1 },
        { "b", 1 },
        { "k", 1ull << 10 },
        { "kb", 1ull << 10 },
        { "kib", 1ull << 10 },
        { "m", 1ull << 20 },
        { "mb", 1ull << 20 },
        { "mib", 1ull << 20 },
        { "g", 1ull << 30 },
        { "gb", 1ull << 30 },
        { "gib", 1ull << 30 },
    };
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
        uint64_t bytes;
        if (!str_ieq(end, units[i].suffix))
            continue;
        if (__builtin_mul_overflow((uint64_t)v, units[i].mult, &bytes) || bytes == 0 ||
            bytes > SIZE_MAX)
            return -1;
        *out = (size_t)bytes;
        return 0;
    }
    return -1;
}

static bool
valid_account_id(const char *s)
{
    size_t n = strlen(s);
    if (n != 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* mkdir -p for an absolute or relative directory path. */
static int
mkdir_p(const char *dir, mode_t mode)
{
    char *path = xstrdup(dir);
    int ret = 0;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, mode) < 0 && errno != EEXIST) {
            ret = -1;
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(path);
    return ret;
}

/*
 * $XDG_STATE_HOME/fogbank/state.db (an XDG path must be absolute, else it is ignored), or
 * $HOME/.local/state/fogbank/state.db; creates the directory. NULL with a message printed.
 */
static char *
default_state_path(void)
{
    struct buf dir = BUF_INIT;
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/') {
        buf_adds(&dir, xdg);
    } else if (home && *home) {
        buf_addf(&dir, "%s/.local/state", home);
    } else {
        fprintf(stderr, "fogbank serve: neither XDG_STATE_HOME nor HOME is set; "
                        "pass --state PATH or --state :memory:\n");
        buf_release(&dir);
        return NULL;
    }
    buf_adds(&dir, "/fogbank");
    if (mkdir_p(dir.data, 0700) < 0) {
        fprintf(stderr, "fogbank serve: cannot create %s: %s\n", dir.data, strerror(errno));
        buf_release(&dir);
        return NULL;
    }
    buf_adds(&dir, "/state.db");
    return buf_detach(&dir, NULL);
}

/* ---- serve: the data directory ---- */

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf; instance disks may hold anything, so it never follows symlinks. */
static void
remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Where instance disks and image layers live: "<state file>.data" next to a state file, or a
 * fresh temporary directory for :memory: (removed at exit: nothing in it can outlive the
 * state that names it). NULL with a message printed.
 */
static char *
data_dir_for(const char *state_path, bool *temporary)
{
    struct buf dir = BUF_INIT;
    *temporary = strcmp(state_path, ":memory:") == 0;
    if (*temporary) {
        const char *tmp = getenv("TMPDIR");
        buf_addf(&dir, "%s/fogbank-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
        if (!mkdtemp(dir.data)) {
            fprintf(stderr, "fogbank serve: cannot create a temporary directory: %s\n",
                    strerror(errno));
            buf_release(&dir);
            return NULL;
        }
        return buf_detach(&dir, NULL);
    }
    buf_addf(&dir, "%s.data", state_path);
    if (mkdir_p(dir.data, 0700) < 0) {
        fprintf(stderr, "fogbank serve: cannot create %s: %s\n", dir.data, strerror(errno));
        buf_release(&dir);
        return NULL;
    }
    return buf_detach(&dir, NULL);
}

/* ---- serve: running ---- */

/* What the signal handlers need to stop the server. */
struct serve {
    struct app *app;          /* the running fogbank */
    struct http_server *http; /* NULL once stopped */
    uv_signal_t sigint;       /* SIGINT: clean shutdown */
    uv_signal_t sigterm;      /* SIGTERM: clean shutdown */
    bool stopping;            /* a signal arrived */
};

static void
serve_stop(struct serve *sv)
{
    if (sv->stopping)
        return;
    sv->stopping = true;
    http_server_stop(sv->http);
    sv->http = NULL;
    uv_close((uv_handle_t *)&sv->sigint, NULL);
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
    /* Services stop their processes, listeners and timers before the clock goes. */
    for (size_t i = 0; i < service_table_len; i++) {
        const struct service_hooks *h = service_table[i]->hooks;
        if (h && h->stop)
            h->stop(sv->app);
    }
    /* After the services (they stop their own instances first), before the clock. */
    sup_free(sv->app->sup);
    sv->app->sup = NULL;
    vclock_free(sv->app->clock);
    sv->app->clock = NULL;
}

static void
on_signal(uv_signal_t *h, int signum)
{
    struct serve *sv = h->data;
    log_info("received %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    serve_stop(sv);
}

static void
close_leftover(uv_handle_t *h, void *arg)
{
    size_t *n = arg;
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
        (*n)++;
    }
}

/* Runs the loop until every handle is closed, closing any a module forgot. */
static void
drain_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    size_t leftover = 0;
    uv_walk(loop, close_leftover, &leftover);
    if (leftover)
        log_error("closed %zu loop handle(s) left open at shutdown", leftover);
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
        log_error("the event loop did not close cleanly");
}

static int
serve_run(struct app_config *cfg)
{
    int ret = 1;
    char errbuf[512];
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "fogbank serve: cannot create the event loop\n");
        return 1;
    }
    struct app app = { .cfg = *cfg, .loop = &loop, .started_mono_ns = vclock_mono_ns() };
    struct serve sv = { .app = &app };
    bool temporary_data = false; /* data_dir is a temporary directory to remove at exit */

    app.db = db_open(cfg->state_path, errbuf, sizeof(errbuf));
    if (!app.db) {
        fprintf(stderr, "fogbank serve: cannot open state %s: %s\n", cfg->state_path, errbuf);
        goto out;
    }
    app.clock = vclock_new(&loop, cfg->time_scale, vclock_wall_ms());
    app.ids = ids_new(cfg->seed);
    app.events = events_new(EVENTS_DEFAULT_CAPACITY);
    app.data_dir = data_dir_for(cfg->state_path, &temporary_data);
    if (!app.data_dir)
        goto out;
    /* fogbank-init next to this binary, else this binary itself: /proc/self/exe rather than
     * argv[0], the very binary running, even if rebuilt since. */
    enum sup_init_kind init_kind;
    char *init_exe = sup_find_init("/proc/self/exe", &init_kind);
    app.sup = sup_new(&loop, init_exe, init_kind, NULL, NULL);
    if (init_kind == SUP_INIT_STANDALONE)
        log_info("instance init: %s", init_exe);
    else
        log_info("instance init: %s not found next to this binary; instances boot as "
                 "`fogbank __instance-init` (slower to start)",
                 SUP_INIT_NAME);
    free(init_exe);
    log_info("instance isolation: %s", sup_mode(app.sup));

    /* Before the "listening" line: whoever reads it may signal us at once. */
    uv_signal_init(&loop, &sv.sigint);
    uv_signal_init(&loop, &sv.sigterm);
    sv.sigint.data = &sv;
    sv.sigterm.data = &sv;
    uv_signal_start(&sv.sigint, on_signal, SIGINT);
    uv_signal_start(&sv.sigterm, on_signal, SIGTERM);

    /* Services pick up where the state left off (e.g. boot the instances that were running). */
    for (size_t i = 0; i < service_table_len; i++) {
        const struct service_hooks *h = service_table[i]->hooks;
        if (h && h->start && h->start(&app, errbuf, sizeof(errbuf)) < 0) {
            fprintf(stderr, "fogbank serve: %s: %s\n", service_table[i]->name, errbuf);
            serve_stop(&sv);
            goto out;
        }
    }

    sv.http = http_server_start(&app, errbuf, sizeof(errbuf));
    if (!sv.http) {
        fprintf(stderr, "fogbank serve: cannot listen on %s port %d: %s\n", cfg->listen, cfg->port,
                errbuf);
        serve_stop(&sv);
        goto out;
    }
    app.http_port = http_server_port(sv.http);
    bool v6 = strchr(cfg->listen, ':') && cfg->listen[0] != '[';
    fprintf(stderr,
            "fogbank %s listening on http://%s%s%s:%d and dns://127.0.0.1:%d (state %s, time "
            "scale %g)\n",
            FB_VERSION, v6 ? "[" : "", cfg->listen, v6 ? "]" : "", http_server_port(sv.http),
            app.dns_port, cfg->state_path, cfg->time_scale);

    uv_run(&loop, UV_RUN_DEFAULT);
    serve_stop(&sv);
    ret = 0;
out:
    drain_loop(&loop);
    ids_free(app.ids);
    events_free(app.events);
    if (app.db)
        db_close(app.db);
    if (app.data_dir && temporary_data)
        remove_tree(app.data_dir);
    free(app.data_dir);
    model_unload_all();
    return ret;
}

static int
cmd_serve(int argc, char **argv)
{
    enum {
        OPT_LISTEN = 256,
        OPT_PORT,
        OPT_STATE,
        OPT_TIME_SCALE,
        OPT_SEED,
        OPT_ACCOUNT_ID,
        OPT_MAX_BODY,
        OPT_INSTANCE_LIMIT,
        OPT_DNS_PORT,
    };
    static const struct option opts[] = {
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "port", required_argument, NULL, OPT_PORT },
        { "state", required_argument, NULL, OPT_STATE },
        { "time-scale", required_argument, NULL, OPT_TIME_SCALE },
        { "seed", required_argument, NULL, OPT_SEED },
        { "account-id", required_argument, NULL, OPT_ACCOUNT_ID },
        { "max-body", required_argument, NULL, OPT_MAX_BODY },
        { "instance-limit", required_argument, NULL, OPT_INSTANCE_LIMIT },
        { "dns-port", required_argument, NULL, OPT_DNS_PORT },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct app_config cfg = {
        .listen = DEFAULT_LISTEN,
        .port = DEFAULT_PORT,
        .state_path = NULL,
        .time_scale = 1,
        .seed = 0,
        .account_id = DEFAULT_ACCOUNT_ID,
        .max_body = DEFAULT_MAX_BODY,
        .instance_limit = 64,
        .dns_port = DEFAULT_DNS_PORT,
    };
    bool quiet = false;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (ch) {
        case OPT_LISTEN:
            cfg.listen = optarg;
            break;
        case OPT_PORT:
            if (parse_port(optarg, &cfg.port) < 0)
                return usage_error("serve", "invalid --port '%s' (want 0-65535)", optarg);
            break;
        case OPT_STATE:
            if (!*optarg)
                return usage_error("serve", "empty --state (want a path or :memory:)");
            cfg.state_path = optarg;
            break;
        case OPT_TIME_SCALE:
            if (parse_scale(optarg, &cfg.time_scale) < 0)
                return usage_error("serve", "invalid --time-scale '%s' (want a number >= 0)",
                                   optarg);
            break;
        case OPT_SEED:
            if (parse_u64(optarg, &cfg.seed) < 0)
                return usage_error("serve", "invalid --seed '%s' (want an unsigned integer)",
                                   optarg);
            break;
        case OPT_ACCOUNT_ID:
            if (!valid_account_id(optarg))
                return usage_error("serve", "invalid --account-id '%s' (want 12 digits)", optarg);
            cfg.account_id = optarg;
            break;
        case OPT_MAX_BODY:
            if (parse_size(optarg, &cfg.max_body) < 0)
                return usage_error("serve", "invalid --max-body '%s' (want bytes > 0, e.g. 32M)",
                                   optarg);
            break;
        case OPT_INSTANCE_LIMIT: {
            uint64_t limit;
            if (parse_u64(optarg, &limit) < 0 || limit < 1 || limit > 100000)
                return usage_error("serve", "invalid --instance-limit '%s' (want 1-100000)",
                                   optarg);
            cfg.instance_limit = (int)limit;
            break;
        }
        case OPT_DNS_PORT:
            if (parse_port(optarg, &cfg.dns_port) < 0)
                return usage_error("serve", "invalid --dns-port '%s' (want 0-65535)", optarg);
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            serve_usage(stdout);
            return 0;
        case ':':
            return usage_error("serve", "option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                return usage_error("serve", "unknown option '-%c'", optopt);
            return usage_error("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("serve", "unexpected argument '%s'", argv[optind]);

    char *state_owned = NULL;
    if (!cfg.state_path) {
        state_owned = default_state_path();
        if (!state_owned)
            return 1;
        cfg.state_path = state_owned;
    }
    /* A client that hangs up mid-answer must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    log_set_quiet(quiet);
    int ret = serve_run(&cfg);
    free(state_owned);
    return ret;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        main_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    /* The instance supervisor re-executes this binary as each instance's init when
     * fogbank-init is missing; not a command for people, so not in the table or --help. */
    if (strcmp(name, "__instance-init") == 0)
        return sup_init_main(argc - 1, argv + 1);
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        main_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0)
        return cmd_version(1, argv + 1);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    if (name[0] == '-')
        return usage_error(NULL, "unknown option '%s'", name);
    return usage_error(NULL, "unknown command '%s'", name);
}
