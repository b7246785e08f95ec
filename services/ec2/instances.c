/*
 * EC2 instances: RunInstances and the calls that describe and change instances, the
 * lifecycle table that says what each call does in each state, and the service hooks that
 * keep every instance's process tree (the supervisor's, emulator/instances/sup.h) in step
 * with its row. Handlers never fork: booting, stopping and killing go through the
 * supervisor, whose exit callback drives the transitions that wait for a tree to end.
 * RunInstances and StartInstances do not boot either: as on AWS they answer with the
 * instances "pending" and the boots follow on the next loop pass (see "launching").
 */
#include "emulator/common.h"
#include "services/ec2/instances.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"
#include "emulator/ids.h"
#include "emulator/instances/sup.h"
#include "emulator/log.h"
#include "emulator/protocol/protocol.h"
#include "services/ec2/ec2.h"
#include "services/ec2/ec2_internal.h"
#include "state/ec2_instances.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INSTANCE_DEFAULT_TYPE "m1.small"         /* RunInstances' documented default InstanceType */
#define USER_DATA_MAX         16384              /* "User data is limited to 16 KB, in raw form" */
#define CONSOLE_MAX           65536              /* GetConsoleOutput: "the most recent 64 KB" */
#define TERMINATED_VISIBLE_MS (60LL * 60 * 1000) /* terminated instances stay ~1 h */
#define STOP_GRACE_MS         2000 /* SIGTERM -> SIGKILL escalation of stop/terminate */
#define MAX_PIDS              64
/* DescribeInstanceStatus reports a new instance's checks as "initializing" for this long
   after it starts running: AWS runs the first checks a few minutes after launch (EC2UG
   monitoring-system-instance-status-check: "initializing" while the checks are in progress);
   fogbank uses 2 minutes of virtual time, so a test advances the clock to see "ok". */
#define STATUS_INITIALIZING_MS (2LL * 60 * 1000)

/* ---- the lifecycle (STYLE rule 7): states x events -> action, next state ---- */

enum inst_state {
    ST_PENDING,
    ST_RUNNING,
    ST_SHUTTING_DOWN,
    ST_TERMINATED,
    ST_STOPPING,
    ST_STOPPED,
    ST__COUNT
};

/* AWS InstanceState {Code, Name}, indexed by enum inst_state. */
static const struct {
    int code;         /* InstanceState.Code (the low byte) */
    const char *name; /* InstanceState.Name */
} inst_states[ST__COUNT] = {
    [ST_PENDING] = { 0, "pending" },
    [ST_RUNNING] = { 16, "running" },
    [ST_SHUTTING_DOWN] = { 32, "shutting-down" },
    [ST_TERMINATED] = { 48, "terminated" },
    [ST_STOPPING] = { 64, "stopping" },
    [ST_STOPPED] = { 80, "stopped" },
};

enum inst_event {
    EV_START,     /* StartInstances */
    EV_STOP,      /* StopInstances */
    EV_REBOOT,    /* RebootInstances */
    EV_TERMINATE, /* TerminateInstances */
    EV_EXITED,    /* the supervisor reports that the instance's tree has exited */
    EV_SHUTDOWN,  /* the tree ended by itself, cleanly: the OS shut down (see on_instance_exit) */
    EV_LAUNCH,    /* the boot scheduled by RunInstances / StartInstances runs (launch_fire) */
    EV__COUNT
};

/* For IncorrectInstanceState: "... is not in a state from which it can be <verb>." */
static const char *const inst_event_verbs[EV__COUNT] = {
    [EV_START] = "started",        [EV_STOP] = "stopped",  [EV_REBOOT] = "rebooted",
    [EV_TERMINATE] = "terminated", [EV_EXITED] = "exited", [EV_SHUTDOWN] = "shut down",
    [EV_LAUNCH] = "launched",
};

enum inst_action {
    A_NONE,    /* empty cell: IncorrectInstanceState */
    A_NOOP,    /* allowed, nothing changes (e.g. stopping a stopped instance) */
    A_BOOT,    /* enter pending and queue the boot (A_LAUNCH runs it after the answer) */
    A_HALT,    /* enter the next state and stop the tree; its exit finishes the move */
    A_REBOOT,  /* stop the tree and boot it again once it has exited */
    A_EXITED,  /* a running instance's tree ended: boot again if a reboot asked for it;
                 otherwise it stays running, impaired (as when its host fails) */
    A_SETTLE,  /* the tree is gone: enter the next (final) state */
    A_OS_DOWN, /* the OS shut down: the instance's InstanceInitiatedShutdownBehavior says
                  whether it ends stopped (the table's next) or terminated */
    A_LAUNCH,  /* boot the tree from the instance's disk (user data on the first boot only):
                  the table's next (running) once it has started, terminated with
                  Server.InternalError when it cannot start */
};

static const struct transition {
    enum inst_action action; /* what to do */
    enum inst_state next;    /* the state entered */
} transitions[ST__COUNT][EV__COUNT] = {
    [ST_PENDING] = {
        [EV_START] = { A_NOOP, ST_PENDING },
        [EV_TERMINATE] = { A_HALT, ST_SHUTTING_DOWN },
        [EV_EXITED] = { A_NOOP, ST_PENDING },
        [EV_LAUNCH] = { A_LAUNCH, ST_RUNNING },
    },
    [ST_RUNNING] = {
        [EV_START] = { A_NOOP, ST_RUNNING },
        [EV_STOP] = { A_HALT, ST_STOPPING },
        [EV_REBOOT] = { A_REBOOT, ST_RUNNING },
        [EV_TERMINATE] = { A_HALT, ST_SHUTTING_DOWN },
        [EV_EXITED] = { A_EXITED, ST_RUNNING },
        [EV_SHUTDOWN] = { A_OS_DOWN, ST_STOPPED },
    },
    [ST_SHUTTING_DOWN] = {
        [EV_TERMINATE] = { A_NOOP, ST_SHUTTING_DOWN },
        [EV_EXITED] = { A_SETTLE, ST_TERMINATED },
    },
    [ST_TERMINATED] = {
        [EV_TERMINATE] = { A_NOOP, ST_TERMINATED },
        [EV_EXITED] = { A_NOOP, ST_TERMINATED },
    },
    [ST_STOPPING] = {
        [EV_STOP] = { A_NOOP, ST_STOPPING },
        [EV_TERMINATE] = { A_HALT, ST_SHUTTING_DOWN },
        [EV_EXITED] = { A_SETTLE, ST_STOPPED },
    },
    [ST_STOPPED] = {
        [EV_START] = { A_BOOT, ST_PENDING },
        [EV_STOP] = { A_NOOP, ST_STOPPED },
        [EV_TERMINATE] = { A_HALT, ST_SHUTTING_DOWN },
        [EV_EXITED] = { A_NOOP, ST_STOPPED },
    },
};

static enum inst_state
state_of_code(int code)
{
    for (int s = 0; s < ST__COUNT; s++)
        if (inst_states[s].code == (code & 0xff))
            return (enum inst_state)s;
    die("ec2: instance state code %d is not one of AWS's", code);
}

const char *
ec2_instance_state_name(int code)
{
    return inst_states[state_of_code(code)].name;
}

/* ---- the runtime: what lives beside the rows (the exit handler, timers) ---- */

/* DescribeInstances' Instance items as rendered, by instance id (item_cache_*). */
struct item_cache_slot {
    char id[32]; /* instance id; "" for an empty slot */
    char *raw;   /* its Instance item, rendered; owned */
};

struct item_cache {
    uint64_t changes;              /* db_changes() when the entries were rendered */
    struct item_cache_slot *slots; /* open addressing, cap slots (a power of two) */
    size_t cap;                    /* slots allocated */
    size_t n;                      /* slots used */
};

/*
 * One fogbank runs one app, so the hooks keep what they need here. runtime_attach() binds
 * it to an app (and re-binds when a unit test makes a new one).
 */
static struct {
    struct app *app;         /* the app the exit handler and timers work for */
    struct sup *sup;         /* the supervisor whose exit handler is ours */
    int in_call;             /* > 0: a transaction of ours is open: an exit reported while we call
                              the supervisor is applied within it */
    bool ignore_exits;       /* reset or shutdown in progress: exits change nothing */
    uint64_t expiry_timer;   /* vclock timer deleting terminated instances; 0 when none */
    uv_timer_t boot_timer;   /* boots at start, once the server listens (its port is known) */
    bool boot_timer_init;    /* boot_timer is initialised and must be closed */
    uint64_t launch_timer;   /* vclock timer running the queued launches; 0 when none */
    char (*launch)[32];      /* ids of instances to boot on the next loop pass, in call order */
    size_t n_launch;         /* queued ids */
    size_t launch_alloc;     /* ids allocated */
    struct item_cache items; /* DescribeInstances' rendered items (item_cache_*) */
} rt;

static void item_cache_clear(void);

static void on_instance_exit(void *arg, const char *id, int status);

static void
runtime_attach(struct app *app)
{
    if (rt.app != app) {
        rt.app = app;
        rt.sup = NULL;
        rt.expiry_timer = 0;
        rt.in_call = 0;
        rt.ignore_exits = false;
        rt.boot_timer_init = false;
        /* The queue belonged to another app, whose clock (and timer) may be gone. */
        rt.launch_timer = 0;
        free(rt.launch);
        rt.launch = NULL;
        rt.n_launch = rt.launch_alloc = 0;
        item_cache_clear();
    }
    if (app->sup && rt.sup != app->sup) {
        sup_set_exit_handler(app->sup, on_instance_exit, app);
        rt.sup = app->sup;
    }
}

/* A call context for work that no API call started (exits, timers, hooks). */
static void
internal_call(struct app *app, const char *region, struct aws_call *call)
{
    memset(call, 0, sizeof(*call));
    call->app = app;
    call->service = "ec2";
    call->op = "fogbank-internal";
    call->region = region;
    call->account_id = app->cfg.account_id ? app->cfg.account_id : "123456789012";
    call->request_id = "";
    call->now_ms = vclock_now(app->clock);
}

const char *
ec2_data_dir(struct aws_call *call)
{
    return call->app->data_dir ? call->app->data_dir : "/tmp";
}

/* ---- small helpers ---- */

static const char *
str_of(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
instance_dir(struct app *app, const char *id, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "%s/instances/%s", app->data_dir ? app->data_dir : "/tmp", id);
}

static int
mkdir_p(const char *dir)
{
    char *path = xstrdup(dir);
    int ret = 0;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
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

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf of an instance's directory; never follows symlinks (the disk holds anything). */
static void
remove_instance_dir(struct app *app, const char *id)
{
    struct buf dir = BUF_INIT;
    instance_dir(app, id, &dir);
    nftw(dir.data, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    buf_release(&dir);
}

/*
 * A free TCP port on the loopback for an instance port: bind port 0, read what the kernel
 * chose, close. Another process could take it before the instance listens; on a test host
 * that is rare enough, and the map is visible in `fogbank ctl status`.
 */
static int
alloc_host_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* fogbank's own port as instances reach it (known once listening; --port otherwise). */
static int
fogbank_port(const struct app *app)
{
    return app->http_port ? app->http_port : app->cfg.port;
}

static int
instance_limit(const struct app *app)
{
    return app->cfg.instance_limit > 0 ? app->cfg.instance_limit : EC2_DEFAULT_INSTANCE_LIMIT;
}

/* "User initiated (2026-11-28 10:00:00 GMT)", as StateTransitionReason reads after a stop. */
static void
user_initiated_reason(int64_t now_ms, char *out, size_t outsz)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, outsz, "User initiated (%s GMT)", when);
}

static void
set_state(struct ec2_instance_rec *r, enum inst_state s)
{
    r->state_code = inst_states[s].code;
}

static bool
instance_alive(struct app *app, const char *id)
{
    return app->sup && sup_alive(app->sup, id);
}

/* ---- booting ---- */

static void env_add(char ***env, size_t *n, const char *fmt, ...) FB_PRINTF(3, 4);

static void
env_add(char ***env, size_t *n, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    *env = xrealloc(*env, (*n + 2) * sizeof(**env));
    (*env)[(*n)++] = buf_detach(&b, NULL);
    (*env)[*n] = NULL;
}

/* Writes the decoded user data into the instance directory; -1 + err. */
static int
write_user_data(const char *path, const char *b64, struct aws_err *err)
{
    struct buf raw = BUF_INIT;
    int ret = -1;
    if (buf_add_base64_decoded(&raw, b64, strlen(b64)) < 0) {
        aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "Invalid BASE64 encoding of user data.");
        goto out;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    if (fd < 0 || write(fd, raw.data, raw.len) != (ssize_t)raw.len) {
        if (fd >= 0)
            close(fd);
        aws_err_set(err, AWS_E_INTERNAL_ERROR, "Cannot write the user data of the instance.");
        goto out;
    }
    close(fd);
    ret = 0;
out:
    buf_release(&raw);
    return ret;
}

/*
 * Starts the instance's process tree from its disk: the image's layers and boot script, the
 * user data on the first boot only (cloud-init's default), and the environment that lets
 * software inside find its port, the metadata service and fogbank's APIs. Without a
 * supervisor (unit tests that need none) it only records the boot. -1 + err.
 */
static int
instance_boot(struct aws_call *call, struct ec2_instance_rec *r, struct aws_err *err)
{
    struct app *app = call->app;
    if (!app->sup) {
        r->first_boot_done = true;
        return 0;
    }
    struct ec2_image_info img;
    memset(&img, 0, sizeof(img));
    /* An instance keeps booting after its image is deregistered, as on AWS. */
    if (ec2_image_get_for_boot(call, r->image_id, &img, err) < 0)
        return -1;
    struct buf dir = BUF_INIT, ud = BUF_INIT;
    char **env = NULL;
    size_t n_env = 0;
    int ret = -1;
    instance_dir(app, r->id, &dir);
    if (mkdir_p(dir.data) < 0) {
        aws_err_set(err, AWS_E_INTERNAL_ERROR, "Cannot create the instance directory %s: %s",
                    dir.data, strerror(errno));
        goto out;
    }
    bool with_user_data = !r->first_boot_done && r->user_data && *r->user_data;
    if (with_user_data) {
        buf_addf(&ud, "%s/user-data", dir.data);
        if (write_user_data(ud.data, r->user_data, err) < 0)
            goto out;
    }
    int port = fogbank_port(app);
    cJSON *ports = cJSON_Parse(r->ports ? r->ports : "{}");
    const cJSON *p;
    cJSON_ArrayForEach(p, ports)
    {
        if (!cJSON_IsNumber(p))
            continue;
        if (strcmp(p->string, "80") == 0)
            env_add(&env, &n_env, "PORT=%d", p->valueint);
        else
            env_add(&env, &n_env, "PORT_%s=%d", p->string, p->valueint);
    }
    cJSON_Delete(ports);
    env_add(&env, &n_env, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:%d%s%s", port,
            EC2_IMDS_PREFIX, r->id);
    env_add(&env, &n_env, "AWS_ENDPOINT_URL=http://127.0.0.1:%d", port);
    env_add(&env, &n_env, "AWS_DEFAULT_REGION=%s", r->region);
    env_add(&env, &n_env, "AWS_REGION=%s", r->region);
    /* Any key works with fogbank; the SDKs only need one to sign. */
    env_add(&env, &n_env, "AWS_ACCESS_KEY_ID=AKIAFOGBANKINSTANCE");
    env_add(&env, &n_env, "AWS_SECRET_ACCESS_KEY=fogbank-instance-secret");
    /* The instance sees the host's root read-only, so the host's tools (the aws CLI, a
       language runtime) are there: the host's PATH finds them where the host finds them. */
    const char *path = getenv("PATH");
    if (path && *path)
        env_add(&env, &n_env, "PATH=%s", path);
    env_add(&env, &n_env, "FOGBANK_INSTANCE_ID=%s", r->id);
    env_add(&env, &n_env, "FOGBANK_PRIVATE_IP=%s", r->private_ip);

    const char *const no_layers[] = { NULL };
    struct sup_spec spec = {
        .id = r->id,
        .dir = dir.data,
        .layers = img.layers[0] ? (const char *const *)img.layers : no_layers,
        .boot_script = img.boot_script,
        .user_data = with_user_data ? ud.data : NULL,
        .env = (const char *const *)env,
    };
    char errbuf[256] = "";
    rt.in_call++;
    int rc = sup_boot(app->sup, &spec, errbuf, sizeof(errbuf));
    rt.in_call--;
    if (rc < 0) {
        aws_err_set(err, AWS_E_INTERNAL_ERROR, "Booting instance %s failed: %s", r->id, errbuf);
        goto out;
    }
    r->first_boot_done = true;
    ret = 0;
out:
    for (size_t i = 0; i < n_env; i++)
        free(env[i]);
    free(env);
    buf_release(&dir);
    buf_release(&ud);
    ec2_image_info_release(&img);
    return ret;
}

/* ---- terminated instances disappear after an hour ---- */

static int64_t expiry_fire(void *arg, int64_t now_ms);

static void
expiry_rearm(struct app *app)
{
    if (!app->clock)
        return;
    int64_t first = 0;
    int have = ec2_store_first_terminated(app->db, &first);
    if (rt.expiry_timer)
        vclock_timer_cancel(app->clock, rt.expiry_timer);
    rt.expiry_timer = 0;
    if (have != 1)
        return;
    int64_t delay = first + TERMINATED_VISIBLE_MS - vclock_now(app->clock);
    rt.expiry_timer = vclock_timer_add(app->clock, delay > 0 ? delay : 0, expiry_fire, app);
}

struct expiry_walk {
    struct aws_call *call; /* context for tag removal */
    int64_t now_ms;        /* virtual now */
    int64_t next_ms;       /* earliest expiry still ahead, 0 none */
};

static int
expiry_visit(void *arg, const struct ec2_instance_rec *r)
{
    struct expiry_walk *w = arg;
    if (!r->terminated_ms || r->state_code != inst_states[ST_TERMINATED].code)
        return 0;
    int64_t due = r->terminated_ms + TERMINATED_VISIBLE_MS;
    if (due > w->now_ms) {
        if (!w->next_ms || due < w->next_ms)
            w->next_ms = due;
        return 0;
    }
    if (ec2_store_delete_instance(w->call->app->db, r->id) < 0)
        return -1;
    ec2_tags_drop(w->call, r->id);
    remove_instance_dir(w->call->app, r->id);
    return 0;
}

/* The vclock timer: deletes what expired, then waits for the next one. */
static int64_t
expiry_fire(void *arg, int64_t now_ms)
{
    struct app *app = arg;
    struct aws_call call;
    internal_call(app, "us-east-1", &call);
    call.now_ms = now_ms;
    struct expiry_walk w = { &call, now_ms, 0 };
    if (db_begin(app->db, true) < 0)
        return 60 * 1000;
    if (ec2_store_walk_instances(app->db, NULL, expiry_visit, &w) < 0 || db_commit(app->db) < 0) {
        db_rollback(app->db);
        return 60 * 1000;
    }
    if (!w.next_ms) {
        rt.expiry_timer = 0;
        return VCLOCK_DONE;
    }
    return w.next_ms - now_ms;
}

/* ---- launching: the boots that follow RunInstances and StartInstances ---- */

static int64_t launch_fire(void *arg, int64_t now_ms);

/*
 * Queues the boot of instance id (just made pending) for the next loop pass: a zero-delay
 * virtual-clock timer, which fires at the next loop iteration even while the clock is
 * frozen, after the call's transaction has committed and its answer has been written (unit
 * tests, which have no loop, run it with vclock_run_due()). If the call rolls back, the
 * boot finds no pending row and does nothing.
 */
static void
launch_later(struct app *app, const char *id)
{
    if (rt.n_launch == rt.launch_alloc) {
        rt.launch_alloc = rt.launch_alloc ? 2 * rt.launch_alloc : 16;
        rt.launch = xrealloc(rt.launch, rt.launch_alloc * sizeof(*rt.launch));
    }
    snprintf(rt.launch[rt.n_launch++], sizeof(*rt.launch), "%s", id);
    if (!rt.launch_timer)
        rt.launch_timer = vclock_timer_add(app->clock, 0, launch_fire, app);
}

/* Forgets every queued boot (reset, shutdown): the rows stay as they are. */
static void
launch_cancel(struct app *app)
{
    if (rt.launch_timer && app->clock)
        vclock_timer_cancel(app->clock, rt.launch_timer);
    rt.launch_timer = 0;
    free(rt.launch);
    rt.launch = NULL;
    rt.n_launch = rt.launch_alloc = 0;
}

static int apply_event(struct aws_call *call, struct ec2_instance_rec *r, enum inst_event ev,
                       struct aws_err *err);

/*
 * Boots one queued instance if it is still pending (a TerminateInstances may have come
 * first), in its own write transaction: launch_fire is a timer callback, not a handler, so
 * no transaction is open around it and it opens its own, as expiry_fire and
 * on_instance_exit do; one per instance, so one failure undoes only that instance. 1
 * booted, 0 nothing to do or the boot failed (the row says terminated), -1 on a database
 * failure (nothing kept: a tree that started is killed and the row stays pending).
 */
static int
launch_one(struct app *app, const char *id, int64_t now_ms)
{
    if (db_begin(app->db, true) < 0)
        return -1;
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int found = ec2_store_get_instance(app->db, NULL, id, &r);
    int ret = found < 0 ? -1 : 0;
    if (found == 1 && transitions[state_of_code(r.state_code)][EV_LAUNCH].action == A_LAUNCH) {
        struct aws_call call;
        internal_call(app, r.region, &call);
        call.now_ms = now_ms;
        struct aws_err err;
        aws_err_clear(&err);
        if (apply_event(&call, &r, EV_LAUNCH, &err) < 0) {
            log_error("ec2: launching %s: %s", id, err.message);
            ret = -1;
        } else {
            ret = r.state_code == inst_states[ST_RUNNING].code ? 1 : 0;
        }
    }
    ec2_instance_rec_release(&r);
    if (ret >= 0 && db_commit(app->db) == 0)
        return ret;
    db_rollback(app->db);
    if (instance_alive(app, id)) {
        rt.ignore_exits = true;
        sup_kill(app->sup, id);
        rt.ignore_exits = false;
    }
    log_error("ec2: instance %s stays pending: the state database failed", id);
    return -1;
}

/* The zero-delay timer: boots every instance queued until now, in call order. */
static int64_t
launch_fire(void *arg, int64_t now_ms)
{
    struct app *app = arg;
    char(*ids)[32] = rt.launch;
    size_t n = rt.n_launch;
    rt.launch_timer = 0;
    rt.launch = NULL;
    rt.n_launch = rt.launch_alloc = 0;
    int booted = 0, failed = 0;
    for (size_t i = 0; i < n && rt.app == app; i++) {
        int rc = launch_one(app, ids[i], now_ms);
        booted += rc == 1;
        failed += rc < 0;
    }
    free(ids);
    if (failed)
        log_error("ec2: %d of %zu launch(es) failed on the state database (%d booted)", failed, n,
                  booted);
    return VCLOCK_DONE;
}

/* ---- applying an event ---- */

static int
incorrect_state(struct aws_err *err, const char *id, enum inst_event ev)
{
    return aws_err_setx(err, 400, "IncorrectInstanceState", true,
                        "The instance '%s' is not in a state from which it can be %s.", id,
                        inst_event_verbs[ev]);
}

static int apply_exited(struct aws_call *call, const char *id, struct aws_err *err);

/* The tree is gone: r enters `next` (stopped or terminated) and the row is written. */
static int
settle(struct aws_call *call, struct ec2_instance_rec *r, enum inst_state next, struct aws_err *err)
{
    set_state(r, next);
    if (next == ST_TERMINATED) {
        /* A terminated instance gives its address and its groups back. */
        r->terminated_ms = call->now_ms;
        ec2_subnet_release_ip(call, r->subnet_id, r->private_ip);
        ec2_security_groups_unuse(call, r->id);
    }
    if (ec2_store_put_instance(call->app->db, r) < 0)
        return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
    if (next == ST_TERMINATED)
        expiry_rearm(call->app);
    return 0;
}

/*
 * Runs event ev on instance r (whose row is current): the table's action, the row written
 * before the supervisor is asked anything (its exit callback may run at once and must find
 * the new state). On return r holds the state the caller reports (CurrentState). -1 + err.
 */
static int
apply_event(struct aws_call *call, struct ec2_instance_rec *r, enum inst_event ev,
            struct aws_err *err)
{
    struct app *app = call->app;
    const struct transition *t = &transitions[state_of_code(r->state_code)][ev];
    switch (t->action) {
    case A_NONE:
        return incorrect_state(err, r->id, ev);
    case A_NOOP:
        return 0;
    case A_BOOT:
        /* Pending until the boot, which runs after the answer (StartInstances answers
           "pending", as AWS's does). */
        set_state(r, t->next);
        r->state_reason_code[0] = r->state_reason_message[0] = r->transition_reason[0] = '\0';
        if (ec2_store_put_instance(app->db, r) < 0)
            return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        launch_later(app, r->id);
        return 0;
    case A_LAUNCH:
        if (instance_boot(call, r, err) < 0) {
            /* AWS's StateReason for an instance that never started (EC2 API StateReason:
               "Server.InternalError: An internal error caused the instance to terminate
               during launch"; the message is the one DescribeInstances shows). The
               address and the groups go back as for any terminated instance. */
            log_error("ec2: instance %s could not boot: %s", r->id, err->message);
            aws_err_clear(err);
            snprintf(r->state_reason_code, sizeof(r->state_reason_code), "%s",
                     "Server.InternalError");
            snprintf(r->state_reason_message, sizeof(r->state_reason_message), "%s",
                     "Server.InternalError: Internal error on launch");
            return settle(call, r, ST_TERMINATED, err);
        }
        set_state(r, t->next);
        if (ec2_store_put_instance(app->db, r) < 0)
            return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        return 0;
    case A_HALT:
        set_state(r, t->next);
        user_initiated_reason(call->now_ms, r->transition_reason, sizeof(r->transition_reason));
        snprintf(r->state_reason_code, sizeof(r->state_reason_code), "%s",
                 "Client.UserInitiatedShutdown");
        snprintf(r->state_reason_message, sizeof(r->state_reason_message), "%s",
                 "Client.UserInitiatedShutdown: User initiated shutdown");
        r->reboot_pending = false;
        if (ec2_store_put_instance(app->db, r) < 0)
            return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        if (instance_alive(app, r->id)) {
            rt.in_call++;
            int rc = sup_stop(app->sup, r->id, STOP_GRACE_MS);
            rt.in_call--;
            if (rc == 0)
                return 0;
        }
        /* No tree to wait for (stopped, killed, or no supervisor): it has already ended. */
        return apply_exited(call, r->id, err);
    case A_REBOOT:
        r->reboot_pending = true;
        if (ec2_store_put_instance(app->db, r) < 0)
            return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        if (instance_alive(app, r->id)) {
            rt.in_call++;
            int rc = sup_stop(app->sup, r->id, STOP_GRACE_MS);
            rt.in_call--;
            if (rc == 0)
                return 0;
        }
        return apply_exited(call, r->id, err);
    case A_EXITED:
        if (!r->reboot_pending)
            return 0;
        r->reboot_pending = false;
        if (ec2_store_has_fault(app->db, "az-down", r->az) == 1) {
            /* Its zone is down: it stays dead until the zone comes back. */
            ec2_store_put_instance(app->db, r);
            return 0;
        }
        ec2_store_delete_faults(app->db, "kill", r->id);
        ec2_store_delete_faults(app->db, "hang", r->id);
        if (instance_boot(call, r, err) < 0)
            return -1;
        return ec2_store_put_instance(app->db, r) < 0
                       ? aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.")
                       : 0;
    case A_SETTLE:
        return settle(call, r, t->next, err);
    case A_OS_DOWN:
        /* AWS's StateReason for a shutdown from inside (EC2 API StateReason: "Client.
           InstanceInitiatedShutdown: The instance was shut down using the shutdown -h
           command from the instance"); the message is the one DescribeInstances shows. */
        user_initiated_reason(call->now_ms, r->transition_reason, sizeof(r->transition_reason));
        snprintf(r->state_reason_code, sizeof(r->state_reason_code), "%s",
                 "Client.InstanceInitiatedShutdown");
        snprintf(r->state_reason_message, sizeof(r->state_reason_message), "%s",
                 "Client.InstanceInitiatedShutdown: Instance initiated shutdown");
        r->reboot_pending = false;
        return settle(call, r,
                      strcmp(r->shutdown_behavior, "terminate") == 0 ? ST_TERMINATED : t->next,
                      err);
    }
    return 0;
}

/* Applies EV_EXITED to the stored row of id, whatever state it is in now. */
static int
apply_exited(struct aws_call *call, const char *id, struct aws_err *err)
{
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int found = ec2_store_get_instance(call->app->db, NULL, id, &r);
    int ret = found == 1 ? apply_event(call, &r, EV_EXITED, err) : 0;
    ec2_instance_rec_release(&r);
    return ret;
}

/*
 * The supervisor's exit callback: a tree ended (stopped, killed, crashed or shut down).
 *
 * An OS-initiated shutdown is the instance's init exiting with status 0 while the API still
 * says running and no reboot is pending: nothing of ours asked it to stop, and a kill or a
 * crash ends with 128 + signal or another status. Inside an instance that is `kill 1`
 * (SIGTERM to PID 1, which shuts the instance down cleanly) in namespace mode, or `kill 0`
 * (SIGTERM to the instance's process group) in process-group mode; there is no poweroff or
 * shutdown binary. The instance's InstanceInitiatedShutdownBehavior then applies.
 */
static void
on_instance_exit(void *arg, const char *id, int status)
{
    struct app *app = arg;
    if (rt.ignore_exits || rt.app != app || !app->clock)
        return;
    bool own = !rt.in_call;
    if (own && db_begin(app->db, true) < 0)
        return;
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int found = ec2_store_get_instance(app->db, NULL, id, &r);
    struct aws_err err;
    aws_err_clear(&err);
    int rc = 0;
    if (found == 1) {
        struct aws_call call;
        internal_call(app, r.region, &call);
        enum inst_state s = state_of_code(r.state_code);
        bool os_down =
                status == 0 && !r.reboot_pending && transitions[s][EV_SHUTDOWN].action != A_NONE;
        rc = apply_event(&call, &r, os_down ? EV_SHUTDOWN : EV_EXITED, &err);
        if (rc < 0)
            log_error("ec2: instance %s exited (status %d): %s", id, status, err.message);
    }
    ec2_instance_rec_release(&r);
    if (!own)
        return;
    if (rc < 0 || db_commit(app->db) < 0)
        db_rollback(app->db);
}

/* ---- the Instance item as DescribeInstances and RunInstances answer it ---- */

static void
add_json_member(cJSON *item, const char *name, const char *json)
{
    cJSON *v = json && *json ? cJSON_Parse(json) : NULL;
    if (v)
        cJSON_AddItemToObject(item, name, v);
}

/* "ip-172-31-0-5.ec2.internal" (us-east-1) or "ip-...<region>.compute.internal". */
static void
private_dns_name(const struct ec2_instance_rec *r, char *out, size_t outsz)
{
    char host[32];
    snprintf(host, sizeof(host), "ip-%s", r->private_ip);
    for (char *p = host; *p; p++)
        if (*p == '.')
            *p = '-';
    if (strcmp(r->region, "us-east-1") == 0)
        snprintf(out, outsz, "%s.ec2.internal", host);
    else
        snprintf(out, outsz, "%s.%s.compute.internal", host, r->region);
}

static cJSON *
instance_item(struct aws_call *call, const struct ec2_instance_rec *r)
{
    cJSON *item = cJSON_CreateObject();
    enum inst_state s = state_of_code(r->state_code);
    char dns[96];
    private_dns_name(r, dns, sizeof(dns));
    bool gone = s == ST_TERMINATED;
    cJSON_AddNumberToObject(item, "AmiLaunchIndex", r->ami_launch_index);
    cJSON_AddStringToObject(item, "ImageId", r->image_id);
    cJSON_AddStringToObject(item, "InstanceId", r->id);
    cJSON_AddStringToObject(item, "InstanceType", r->instance_type);
    if (r->key_name[0])
        cJSON_AddStringToObject(item, "KeyName", r->key_name);
    cJSON_AddNumberToObject(item, "LaunchTime", (double)r->launch_ms);
    cJSON *mon = cJSON_AddObjectToObject(item, "Monitoring");
    cJSON_AddStringToObject(mon, "State", "disabled");
    cJSON *pl = cJSON_AddObjectToObject(item, "Placement");
    cJSON_AddStringToObject(pl, "AvailabilityZone", r->az);
    cJSON_AddStringToObject(pl, "GroupName", "");
    cJSON_AddStringToObject(pl, "Tenancy", "default");
    /* A terminated instance has given its address and subnet back. */
    cJSON_AddStringToObject(item, "PrivateDnsName", gone ? "" : dns);
    if (!gone)
        cJSON_AddStringToObject(item, "PrivateIpAddress", r->private_ip);
    cJSON_AddArrayToObject(item, "ProductCodes");
    cJSON_AddStringToObject(item, "PublicDnsName", "");
    cJSON *st = cJSON_AddObjectToObject(item, "State");
    cJSON_AddNumberToObject(st, "Code", r->state_code);
    cJSON_AddStringToObject(st, "Name", inst_states[s].name);
    cJSON_AddStringToObject(item, "StateTransitionReason", r->transition_reason);
    if (!gone) {
        cJSON_AddStringToObject(item, "SubnetId", r->subnet_id);
        cJSON_AddStringToObject(item, "VpcId", r->vpc_id);
    }
    cJSON_AddStringToObject(item, "Architecture", "x86_64");
    cJSON_AddArrayToObject(item, "BlockDeviceMappings");
    if (r->client_token[0])
        cJSON_AddStringToObject(item, "ClientToken", r->client_token);
    cJSON_AddBoolToObject(item, "EbsOptimized", false);
    cJSON_AddBoolToObject(item, "EnaSupport", true);
    cJSON_AddStringToObject(item, "Hypervisor", "xen");
    if (r->iam_profile && *r->iam_profile) {
        cJSON *given = cJSON_Parse(r->iam_profile);
        const char *arn = str_of(given, "Arn");
        const char *name = str_of(given, "Name");
        struct buf b = BUF_INIT;
        if (arn)
            buf_adds(&b, arn);
        else
            buf_addf(&b, "arn:aws:iam::%s:instance-profile/%s", call->account_id, name ? name : "");
        cJSON *prof = cJSON_AddObjectToObject(item, "IamInstanceProfile");
        cJSON_AddStringToObject(prof, "Arn", b.data);
        /* Profile ids are AIPA + 17 characters; derived from the instance id so it is stable. */
        buf_reset(&b);
        buf_addf(&b, "AIPA%s", r->id + 2);
        for (char *p = b.data; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        cJSON_AddStringToObject(prof, "Id", b.data);
        buf_release(&b);
        cJSON_Delete(given);
    }
    cJSON_AddStringToObject(item, "RootDeviceName", "/dev/xvda");
    cJSON_AddStringToObject(item, "RootDeviceType", "ebs");
    add_json_member(item, "SecurityGroups", gone ? "[]" : r->security_groups);
    cJSON_AddBoolToObject(item, "SourceDestCheck", true);
    if (r->state_reason_code[0]) {
        cJSON *sr = cJSON_AddObjectToObject(item, "StateReason");
        cJSON_AddStringToObject(sr, "Code", r->state_reason_code);
        cJSON_AddStringToObject(sr, "Message", r->state_reason_message);
    }
    cJSON_AddStringToObject(item, "VirtualizationType", "hvm");
    cJSON *cpu = cJSON_AddObjectToObject(item, "CpuOptions");
    cJSON_AddNumberToObject(cpu, "CoreCount", 1);
    cJSON_AddNumberToObject(cpu, "ThreadsPerCore", 1);
    cJSON *mo =
            cJSON_Parse(r->metadata_options && *r->metadata_options ? r->metadata_options : "{}");
    if (mo) {
        cJSON_AddStringToObject(mo, "State", "applied");
        cJSON_AddItemToObject(item, "MetadataOptions", mo);
    }
    cJSON_AddStringToObject(item, "PlatformDetails", "Linux/UNIX");
    cJSON_AddStringToObject(item, "UsageOperation", "RunInstances");
    cJSON_AddNumberToObject(item, "UsageOperationUpdateTime", (double)r->launch_ms);
    ec2_tags_add_to(call, r->id, item);
    return item;
}

/* ---- the rendered items of DescribeInstances ---- */

/*
 * Waiters and dashboards ask DescribeInstances again and again while nothing changes, and
 * building and encoding an Instance tree is most of the answer's time, so each item is kept
 * as rendered by protocol_prerender(). The whole cache is good while db_changes() reads
 * what it read when the items were rendered: any write to the state (an instance, a tag,
 * anything) empties it, so nothing can go stale through a path that forgot to say so.
 */
static void
item_cache_clear(void)
{
    for (size_t i = 0; i < rt.items.cap; i++)
        free(rt.items.slots[i].raw);
    free(rt.items.slots);
    memset(&rt.items, 0, sizeof(rt.items));
}

static size_t
item_cache_slot(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    size_t i = (size_t)h & (rt.items.cap - 1);
    while (rt.items.slots[i].id[0] && strcmp(rt.items.slots[i].id, id) != 0)
        i = (i + 1) & (rt.items.cap - 1);
    return i;
}

/* Empties the cache if the state was written since it was filled, and makes room for one
   more entry. */
static void
item_cache_prepare(struct aws_call *call)
{
    uint64_t changes = db_changes(call->app->db);
    if (rt.items.changes != changes) {
        item_cache_clear();
        rt.items.changes = changes;
    }
    if (2 * (rt.items.n + 1) > rt.items.cap) {
        struct item_cache old = rt.items;
        rt.items.cap = old.cap ? 2 * old.cap : 256;
        rt.items.slots = xcalloc(rt.items.cap, sizeof(*rt.items.slots));
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i].id[0])
                rt.items.slots[item_cache_slot(old.slots[i].id)] = old.slots[i];
        free(old.slots);
    }
}

/* The rendered item of instance id if it is cached (borrowed until the next write to the
   state), else NULL. */
static const char *
item_cache_find(struct aws_call *call, const char *id)
{
    item_cache_prepare(call);
    struct item_cache_slot *slot = &rt.items.slots[item_cache_slot(id)];
    return slot->id[0] ? slot->raw : NULL;
}

/* The rendered item of r: from the cache, or rendered now and kept. Borrowed until the next
   write to the state; NULL when the protocol cannot pre-render. */
static const char *
item_cache_get(struct aws_call *call, const struct ec2_instance_rec *r)
{
    const char *raw = item_cache_find(call, r->id);
    if (raw)
        return raw;
    cJSON *item = instance_item(call, r);
    size_t len;
    char *fresh = protocol_prerender(call->service, "Instance", item, &len);
    cJSON_Delete(item);
    if (!fresh)
        return NULL;
    struct item_cache_slot *slot = &rt.items.slots[item_cache_slot(r->id)];
    snprintf(slot->id, sizeof(slot->id), "%s", r->id);
    slot->raw = fresh;
    rt.items.n++;
    return fresh;
}

/* A raw node borrowing s (not freed with the node): the encoder writes s verbatim. */
static cJSON *
raw_ref(const char *s)
{
    cJSON *node = cJSON_CreateRaw("");
    if (!node)
        die("out of memory");
    cJSON_free(node->valuestring);
    node->valuestring = (char *)s;
    node->type |= cJSON_IsReference;
    return node;
}

/* ---- ids in requests ---- */

static int
not_found(struct aws_err *err, const struct buf *missing, int n_missing)
{
    if (n_missing == 1)
        return aws_err_setx(err, 400, "InvalidInstanceID.NotFound", true,
                            "The instance ID '%s' does not exist", missing->data);
    return aws_err_setx(err, 400, "InvalidInstanceID.NotFound", true,
                        "The instance IDs '%s' do not exist", missing->data);
}

/* Checks the shape of every id of the list (InvalidInstanceID.Malformed). */
static int
check_ids_shape(const cJSON *ids, struct aws_err *err)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, ids)
    {
        if (!cJSON_IsString(v) || !ec2_id_well_formed(v->valuestring, "i"))
            return aws_err_setx(err, 400, "InvalidInstanceID.Malformed", true, "Invalid id: \"%s\"",
                                cJSON_IsString(v) ? v->valuestring : "");
    }
    return 0;
}

/*
 * Loads the instances named by in.InstanceIds (required) into a new array of recs (*n of
 * them; free each and the array): Malformed / NotFound (all missing ids named) otherwise.
 */
static int
load_instances(struct aws_call *call, const cJSON *in, struct ec2_instance_rec **out, size_t *n,
               struct aws_err *err)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "InstanceIds");
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter InstanceIds");
    if (check_ids_shape(ids, err) < 0)
        return -1;
    size_t count = (size_t)cJSON_GetArraySize(ids);
    struct ec2_instance_rec *recs = xcalloc(count, sizeof(*recs));
    struct buf missing = BUF_INIT;
    int n_missing = 0;
    size_t k = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, ids)
    {
        bool dup = false;
        for (size_t i = 0; i < k; i++)
            dup = dup || strcmp(recs[i].id, v->valuestring) == 0;
        if (dup)
            continue;
        ec2_instance_rec_init(&recs[k]);
        int found = ec2_store_get_instance(call->app->db, call->region, v->valuestring, &recs[k]);
        if (found < 0) {
            for (size_t i = 0; i <= k; i++)
                ec2_instance_rec_release(&recs[i]);
            free(recs);
            buf_release(&missing);
            return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        }
        if (found == 0) {
            buf_addf(&missing, "%s%s", n_missing ? ", " : "", v->valuestring);
            n_missing++;
            continue;
        }
        k++;
    }
    if (n_missing) {
        not_found(err, &missing, n_missing);
        for (size_t i = 0; i < k; i++)
            ec2_instance_rec_release(&recs[i]);
        free(recs);
        buf_release(&missing);
        return -1;
    }
    buf_release(&missing);
    *out = recs;
    *n = k;
    return 0;
}

static void
free_recs(struct ec2_instance_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ec2_instance_rec_release(&recs[i]);
    free(recs);
}

static cJSON *
state_json(int code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "Code", code);
    cJSON_AddStringToObject(o, "Name", ec2_instance_state_name(code));
    return o;
}

static int
limit_exceeded(struct aws_err *err, int requested, int limit)
{
    return aws_err_setx(err, 400, "InstanceLimitExceeded", true,
                        "You have requested more instances (%d) than your current instance "
                        "limit of %d allows for the specified instance type. Please visit "
                        "http://aws.amazon.com/contact-us/ec2-request to request an adjustment "
                        "to this limit.",
                        requested, limit);
}

/*
 * Stop/Start/Reboot/Terminate: every id is checked (exists, the table has a cell for the
 * event, termination protection, the limit) before any instance changes, so one bad id
 * changes nothing, as TerminateInstances documents. `member` names the answer's list, or
 * NULL (RebootInstances answers nothing).
 */
static int
change_state(struct aws_call *call, const cJSON *in, cJSON *out, enum inst_event ev,
             const char *member, struct aws_err *err)
{
    runtime_attach(call->app);
    struct ec2_instance_rec *recs;
    size_t n;
    if (load_instances(call, in, &recs, &n, err) < 0)
        return -1;
    int ret = -1;
    int starting = 0;
    for (size_t i = 0; i < n; i++) {
        enum inst_state s = state_of_code(recs[i].state_code);
        if (transitions[s][ev].action == A_NONE) {
            incorrect_state(err, recs[i].id, ev);
            goto out;
        }
        if (ev == EV_TERMINATE && recs[i].disable_api_termination) {
            aws_err_setx(err, 400, "OperationNotPermitted", true,
                         "The instance '%s' may not be terminated. Modify its "
                         "'disableApiTermination' instance attribute and try again.",
                         recs[i].id);
            goto out;
        }
        if (ev == EV_START && transitions[s][ev].action == A_BOOT)
            starting++;
    }
    if (starting) {
        int active = 0;
        if (ec2_store_count_active(call->app->db, call->region, &active) < 0) {
            aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
            goto out;
        }
        if (active + starting > instance_limit(call->app)) {
            limit_exceeded(err, active + starting, instance_limit(call->app));
            goto out;
        }
    }
    if (ec2_dry_run(in, err) < 0)
        goto out;
    cJSON *list = member ? cJSON_AddArrayToObject(out, member) : NULL;
    for (size_t i = 0; i < n; i++) {
        int prev = recs[i].state_code;
        /* A failure rolls every row back; the boots StartInstances queued then find their
           instances not pending and do nothing. */
        if (apply_event(call, &recs[i], ev, err) < 0)
            goto out;
        if (list) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToObject(e, "CurrentState", state_json(recs[i].state_code));
            cJSON_AddStringToObject(e, "InstanceId", recs[i].id);
            cJSON_AddItemToObject(e, "PreviousState", state_json(prev));
            cJSON_AddItemToArray(list, e);
        }
    }
    ret = 0;
out:
    free_recs(recs, n);
    return ret;
}

int
ec2_terminate_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    return change_state(call, in, out, EV_TERMINATE, "TerminatingInstances", err);
}

int
ec2_stop_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    return change_state(call, in, out, EV_STOP, "StoppingInstances", err);
}

int
ec2_start_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    return change_state(call, in, out, EV_START, "StartingInstances", err);
}

int
ec2_reboot_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    return change_state(call, in, out, EV_REBOOT, NULL, err);
}

/* ---- RunInstances ---- */

struct reservation_walk {
    struct aws_call *call; /* context */
    cJSON *instances;      /* the reservation's Instances list */
    bool as_pending;       /* report the state RunInstances reports: pending */
};

static int
reservation_visit(void *arg, const struct ec2_instance_rec *r)
{
    struct reservation_walk *w = arg;
    cJSON *item = instance_item(w->call, r);
    if (w->as_pending) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddNumberToObject(st, "Code", 0);
        cJSON_AddStringToObject(st, "Name", "pending");
        cJSON_ReplaceItemInObjectCaseSensitive(item, "State", st);
    }
    cJSON_AddItemToArray(w->instances, item);
    return 0;
}

/* Fills out as RunInstances answers: {ReservationId, OwnerId, Groups, Instances}. */
static int
answer_reservation(struct aws_call *call, const char *reservation_id, bool as_pending, cJSON *out,
                   struct aws_err *err)
{
    char owner[32];
    if (ec2_store_reservation_owner(call->app->db, reservation_id, owner, sizeof(owner)) < 0)
        return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
    cJSON_AddStringToObject(out, "ReservationId", reservation_id);
    cJSON_AddStringToObject(out, "OwnerId", owner);
    cJSON_AddArrayToObject(out, "Groups");
    struct reservation_walk w = { call, cJSON_AddArrayToObject(out, "Instances"), as_pending };
    if (ec2_store_walk_reservation(call->app->db, reservation_id, reservation_visit, &w) < 0)
        return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
    return 0;
}

/* The request with a launch template's data merged under the explicit members. */
static int
effective_request(struct aws_call *call, const cJSON *in, cJSON **req, struct aws_err *err)
{
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(in, "LaunchTemplate");
    if (!lt) {
        *req = cJSON_Duplicate(in, true);
        return 0;
    }
    cJSON *data = NULL;
    if (ec2_launch_template_resolve(call, lt, &data, err) < 0)
        return -1;
    if (!data)
        data = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, in)
    {
        if (strcmp(m->string, "LaunchTemplate") == 0)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(data, m->string);
        cJSON_AddItemToObject(data, m->string, cJSON_Duplicate(m, true));
    }
    *req = data;
    return 0;
}

/* "We currently do not have sufficient <type> capacity in the Availability Zone you requested
   (<az>)...", AWS's wording of InsufficientInstanceCapacity (AWS-NOTES §3.3). It is a server
   error ("Server: There are not enough available instances to satisfy your minimum
   request", the EC2 error list), hence 500: SDKs retry it, as they do against AWS. */
static int
capacity_error(struct aws_call *call, const char *type, const char *az, struct aws_err *err)
{
    struct buf others = BUF_INIT;
    for (char z = 'a'; z <= 'c'; z++) {
        char name[40];
        snprintf(name, sizeof(name), "%s%c", call->region, z);
        if (strcmp(name, az) != 0 && ec2_store_has_fault(call->app->db, "az-down", name) != 1)
            buf_addf(&others, "%s%s", others.len ? ", " : "", name);
    }
    aws_err_setx(err, 500, "InsufficientInstanceCapacity", false,
                 "We currently do not have sufficient %s capacity in the Availability Zone you "
                 "requested (%s). Our system will be working on provisioning additional "
                 "capacity. You can currently get %s capacity by not specifying an Availability "
                 "Zone in your request or choosing %s.",
                 type, az, type, others.len ? others.data : "another Availability Zone");
    buf_release(&others);
    return -1;
}

/* Where the instances go: the subnet (which decides the AZ) or the zone's default subnet. */
static int
placement(struct aws_call *call, const cJSON *req, const char *type, struct ec2_subnet_info *subnet,
          struct aws_err *err)
{
    const char *subnet_id = str_of(req, "SubnetId");
    const char *az = str_of(cJSON_GetObjectItemCaseSensitive(req, "Placement"), "AvailabilityZone");
    if (az && !*az)
        az = NULL;
    if (subnet_id) {
        if (ec2_subnet_get(call, subnet_id, subnet, err) < 0)
            return -1;
        if (az && strcmp(az, subnet->az) != 0)
            return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                               "Value (%s) for parameter availabilityZone is invalid. Subnet "
                               "'%s' is in the availability zone %s",
                               az, subnet_id, subnet->az);
    } else if (az) {
        size_t rl = strlen(call->region);
        if (strncmp(az, call->region, rl) != 0 || strlen(az) != rl + 1 || az[rl] < 'a' ||
            az[rl] > 'c')
            return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                               "Invalid availability zone: [%s]", az);
        if (ec2_default_subnet(call, az, subnet, err) < 0)
            return -1;
    } else {
        /* No preference: the first zone that is up (AWS picks one for you). */
        char name[40] = "";
        for (char z = 'a'; z <= 'c'; z++) {
            snprintf(name, sizeof(name), "%s%c", call->region, z);
            if (ec2_store_has_fault(call->app->db, "az-down", name) != 1)
                break;
            if (z == 'c')
                return capacity_error(call, type, name, err);
        }
        if (ec2_default_subnet(call, name, subnet, err) < 0)
            return -1;
    }
    if (ec2_store_has_fault(call->app->db, "az-down", subnet->az) == 1)
        return capacity_error(call, type, subnet->az, err);
    return 0;
}

/* MetadataOptions as applied: the request's members over AWS's defaults. */
static char *
metadata_options_json(const cJSON *given, struct aws_err *err)
{
    static const struct {
        const char *member; /* MetadataOptions member */
        const char *dflt;   /* AWS's default */
        const char *a, *b;  /* the allowed values */
    } opts[] = {
        { "HttpTokens", "optional", "optional", "required" },
        { "HttpEndpoint", "enabled", "enabled", "disabled" },
        { "HttpProtocolIpv6", "disabled", "enabled", "disabled" },
        { "InstanceMetadataTags", "disabled", "enabled", "disabled" },
    };
    cJSON *mo = cJSON_CreateObject();
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
        const char *v = str_of(given, opts[i].member);
        if (v && strcmp(v, opts[i].a) != 0 && strcmp(v, opts[i].b) != 0) {
            cJSON_Delete(mo);
            aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                        "Value (%s) for parameter %s is invalid.", v, opts[i].member);
            return NULL;
        }
        cJSON_AddStringToObject(mo, opts[i].member, v ? v : opts[i].dflt);
    }
    const cJSON *hop = cJSON_GetObjectItemCaseSensitive(given, "HttpPutResponseHopLimit");
    cJSON_AddNumberToObject(mo, "HttpPutResponseHopLimit", cJSON_IsNumber(hop) ? hop->valueint : 1);
    char *text = cJSON_PrintUnformatted(mo);
    cJSON_Delete(mo);
    char *copy = xstrdup(text);
    cJSON_free(text);
    return copy;
}

static int
count_of(const cJSON *req, const char *name, int *out, struct aws_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    if (!cJSON_IsNumber(v))
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter %s", name);
    *out = v->valueint;
    return 0;
}

static int
member_cmp(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* v as JSON with every object's members sorted by name, leaving out `skip` members at the top
   (depth 0): the same request gives the same text whatever order its members came in. */
static void
canonical_json(const cJSON *v, struct buf *out, const char *const *skip, size_t n_skip)
{
    if (cJSON_IsObject(v)) {
        size_t n = (size_t)cJSON_GetArraySize(v), k = 0;
        const cJSON **members = xcalloc(n + 1, sizeof(*members));
        const cJSON *m;
        cJSON_ArrayForEach(m, v)
        {
            bool skipped = false;
            for (size_t i = 0; i < n_skip; i++)
                skipped = skipped || strcmp(m->string, skip[i]) == 0;
            if (!skipped)
                members[k++] = m;
        }
        qsort(members, k, sizeof(*members), member_cmp);
        buf_adds(out, "{");
        for (size_t i = 0; i < k; i++) {
            buf_addf(out, "%s\"%s\":", i ? "," : "", members[i]->string);
            canonical_json(members[i], out, NULL, 0);
        }
        buf_adds(out, "}");
        free(members);
    } else if (cJSON_IsArray(v)) {
        buf_adds(out, "[");
        const cJSON *e;
        bool first = true;
        cJSON_ArrayForEach(e, v)
        {
            if (!first)
                buf_adds(out, ",");
            first = false;
            canonical_json(e, out, NULL, 0);
        }
        buf_adds(out, "]");
    } else {
        char *text = cJSON_PrintUnformatted(v);
        buf_adds(out, text ? text : "null");
        cJSON_free(text);
    }
}

/*
 * The SHA-256 (hex) of a RunInstances request's parameters, to tell a retry from a reuse of
 * its ClientToken: DryRun and the token itself are not parameters of the launch.
 */
static void
request_digest(const cJSON *in, char out[2 * EVP_MAX_MD_SIZE + 1])
{
    static const char *const skip[] = { "ClientToken", "DryRun" };
    struct buf text = BUF_INIT;
    canonical_json(in, &text, skip, ARRAY_SIZE(skip));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(text.data, text.len, md, &len, EVP_sha256(), NULL))
        die("ec2: SHA-256 of a request failed");
    for (unsigned int i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * len] = '\0';
    buf_release(&text);
}

int
ec2_run_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct app *app = call->app;
    runtime_attach(app);
    cJSON *req = NULL;
    char *mo_json = NULL, *sg_json = NULL, *iam_json = NULL;
    struct ec2_instance_rec *recs = NULL;
    int n = 0, ret = -1;

    const char *token = str_of(in, "ClientToken");
    char digest[2 * EVP_MAX_MD_SIZE + 1] = "";
    if (token && *token) {
        char existing[32], stored[2 * EVP_MAX_MD_SIZE + 1];
        request_digest(in, digest);
        int found = ec2_store_find_reservation(app->db, call->region, token, existing,
                                               sizeof(existing), stored, sizeof(stored));
        if (found < 0)
            return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        /* The same token with other parameters (EC2 API ec2-api-idempotency: "the retry fails
           with an IdempotentParameterMismatch error"; wording as the SDKs report it, e.g.
           rust-lang/bors#830). A reservation stored without a digest cannot be compared. */
        if (found == 1 && stored[0] && strcmp(stored, digest) != 0)
            return aws_err_setx(err, 400, "IdempotentParameterMismatch", true,
                                "Arguments on this idempotent request are inconsistent with "
                                "arguments used in previous request(s).");
        /* Idempotency: the same token returns the reservation it made, launching nothing. */
        if (found == 1)
            return answer_reservation(call, existing, false, out, err);
    }
    if (effective_request(call, in, &req, err) < 0)
        return -1;

    int min = 0, max = 0;
    if (count_of(req, "MinCount", &min, err) < 0 || count_of(req, "MaxCount", &max, err) < 0)
        goto out;
    if (min < 1) {
        aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                    "Value (%d) for parameter minCount is invalid. Expected a positive integer.",
                    min);
        goto out;
    }
    if (max < min) {
        aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                    "Value (%d) for parameter maxCount is invalid. maxCount must be greater than "
                    "or equal to minCount.",
                    max);
        goto out;
    }
    const char *image_id = str_of(req, "ImageId");
    if (!image_id || !*image_id) {
        aws_err_set(err, AWS_E_MISSING_PARAMETER, "The request must contain the parameter ImageId");
        goto out;
    }
    struct ec2_image_info img;
    memset(&img, 0, sizeof(img));
    if (ec2_image_get(call, image_id, &img, err) < 0)
        goto out;
    ec2_image_info_release(&img);

    const char *type = str_of(req, "InstanceType");
    if (!type || !*type)
        type = INSTANCE_DEFAULT_TYPE;
    if (!strchr(type, '.') || strlen(type) >= sizeof(recs->instance_type)) {
        aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "Invalid value '%s' for InstanceType.",
                    type);
        goto out;
    }
    const char *user_data = str_of(req, "UserData");
    if (user_data && *user_data) {
        struct buf raw = BUF_INIT;
        int bad = buf_add_base64_decoded(&raw, user_data, strlen(user_data));
        size_t len = raw.len;
        buf_release(&raw);
        if (bad < 0) {
            aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                        "Invalid BASE64 encoding of user data.");
            goto out;
        }
        if (len > USER_DATA_MAX) {
            aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "User data is limited to %d bytes",
                        USER_DATA_MAX);
            goto out;
        }
    }
    const char *shutdown = str_of(req, "InstanceInitiatedShutdownBehavior");
    if (shutdown && strcmp(shutdown, "stop") != 0 && strcmp(shutdown, "terminate") != 0) {
        aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                    "Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid.",
                    shutdown);
        goto out;
    }
    struct ec2_subnet_info subnet;
    memset(&subnet, 0, sizeof(subnet));
    if (placement(call, req, type, &subnet, err) < 0)
        goto out;
    cJSON *sgs = cJSON_CreateArray();
    int rc = ec2_security_groups_resolve(
            call, subnet.vpc_id, cJSON_GetObjectItemCaseSensitive(req, "SecurityGroupIds"),
            cJSON_GetObjectItemCaseSensitive(req, "SecurityGroups"), sgs, err);
    char *text = cJSON_PrintUnformatted(sgs);
    sg_json = xstrdup(text);
    cJSON_free(text);
    cJSON_Delete(sgs);
    if (rc < 0)
        goto out;
    const char *key_name = str_of(req, "KeyName");
    if (key_name && *key_name && ec2_key_pair_check(call, key_name, err) < 0)
        goto out;
    mo_json = metadata_options_json(cJSON_GetObjectItemCaseSensitive(req, "MetadataOptions"), err);
    if (!mo_json)
        goto out;
    const cJSON *iam = cJSON_GetObjectItemCaseSensitive(req, "IamInstanceProfile");
    if (cJSON_IsObject(iam)) {
        text = cJSON_PrintUnformatted(iam);
        iam_json = xstrdup(text);
        cJSON_free(text);
    }

    /* As many as the limit allows, at least MinCount (RunInstances' documented contract). */
    int active = 0;
    if (ec2_store_count_active(app->db, call->region, &active) < 0) {
        aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        goto out;
    }
    int room = instance_limit(app) - active;
    if (room < min) {
        limit_exceeded(err, active + min, instance_limit(app));
        goto out;
    }
    n = max < room ? max : room;
    if (ec2_dry_run(in, err) < 0)
        goto out;

    char reservation[32];
    ec2_new_id(call, "r", reservation, sizeof(reservation));
    if (ec2_store_put_reservation(app->db, reservation, call->region, call->account_id, token,
                                  digest, call->now_ms) < 0) {
        aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        goto out;
    }
    const cJSON *dat = cJSON_GetObjectItemCaseSensitive(req, "DisableApiTermination");
    recs = xcalloc((size_t)n, sizeof(*recs));
    for (int i = 0; i < n; i++) {
        struct ec2_instance_rec *r = &recs[i];
        ec2_instance_rec_init(r);
        ec2_new_id(call, "i", r->id, sizeof(r->id));
        snprintf(r->region, sizeof(r->region), "%s", call->region);
        snprintf(r->reservation_id, sizeof(r->reservation_id), "%s", reservation);
        snprintf(r->image_id, sizeof(r->image_id), "%s", image_id);
        snprintf(r->instance_type, sizeof(r->instance_type), "%s", type);
        snprintf(r->az, sizeof(r->az), "%s", subnet.az);
        snprintf(r->subnet_id, sizeof(r->subnet_id), "%s", subnet.id);
        snprintf(r->vpc_id, sizeof(r->vpc_id), "%s", subnet.vpc_id);
        if (ec2_subnet_allocate_ip(call, &subnet, r->private_ip, sizeof(r->private_ip), err) < 0)
            goto out;
        set_state(r, ST_PENDING);
        r->launch_ms = call->now_ms;
        snprintf(r->key_name, sizeof(r->key_name), "%s", key_name ? key_name : "");
        snprintf(r->client_token, sizeof(r->client_token), "%s", token ? token : "");
        snprintf(r->shutdown_behavior, sizeof(r->shutdown_behavior), "%s",
                 shutdown ? shutdown : "stop");
        r->disable_api_termination = cJSON_IsTrue(dat);
        r->ami_launch_index = i;
        ec2_instance_rec_set(&r->user_data, user_data);
        ec2_instance_rec_set(&r->iam_profile, iam_json);
        ec2_instance_rec_set(&r->security_groups, sg_json);
        ec2_instance_rec_set(&r->metadata_options, mo_json);
        int port = alloc_host_port();
        struct buf ports = BUF_INIT;
        if (port > 0)
            buf_addf(&ports, "{\"80\":%d}", port);
        else
            buf_adds(&ports, "{}");
        ec2_instance_rec_set(&r->ports, ports.data);
        buf_release(&ports);
        if (ec2_store_put_instance(app->db, r) < 0) {
            aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
            goto out;
        }
        if (ec2_tags_apply_specs(call, cJSON_GetObjectItemCaseSensitive(req, "TagSpecifications"),
                                 "instance", r->id, err) < 0)
            goto out;
        cJSON *groups = cJSON_Parse(sg_json);
        rc = ec2_security_groups_use(call, r->id, groups, err);
        cJSON_Delete(groups);
        if (rc < 0)
            goto out;
    }
    ret = answer_reservation(call, reservation, true, out, err);
    /* Everything is valid and recorded, and the answer says pending: the boots come after
       it, on the next loop pass. A failure above leaves no rows (they roll back with the
       transaction), no processes and no disks: nothing outside the database was made. */
    for (int i = 0; ret == 0 && i < n; i++)
        launch_later(app, recs[i].id);
out:
    if (recs)
        free_recs(recs, (size_t)n);
    cJSON_Delete(req);
    free(mo_json);
    free(sg_json);
    free(iam_json);
    return ret;
}

/* ---- DescribeInstances ---- */

static const struct ec2_filter_def instance_filters[] = {
    { "architecture", "Architecture" },
    { "availability-zone", "Placement.AvailabilityZone" },
    { "client-token", "ClientToken" },
    { "iam-instance-profile.arn", "IamInstanceProfile.Arn" },
    { "image-id", "ImageId" },
    { "instance-id", "InstanceId" },
    { "instance-state-code", "State.Code" },
    { "instance-state-name", "State.Name" },
    { "instance-type", "InstanceType" },
    { "instance.group-id", "SecurityGroups.GroupId" },
    { "instance.group-name", "SecurityGroups.GroupName" },
    { "key-name", "KeyName" },
    { "launch-index", "AmiLaunchIndex" },
    { "metadata-options.http-endpoint", "MetadataOptions.HttpEndpoint" },
    { "metadata-options.http-tokens", "MetadataOptions.HttpTokens" },
    { "owner-id", "OwnerId" },
    { "placement-group-name", "Placement.GroupName" },
    { "private-dns-name", "PrivateDnsName" },
    { "private-ip-address", "PrivateIpAddress" },
    { "reservation-id", "ReservationId" },
    { "root-device-name", "RootDeviceName" },
    { "root-device-type", "RootDeviceType" },
    { "state-reason-code", "StateReason.Code" },
    { "subnet-id", "SubnetId" },
    { "tenancy", "Placement.Tenancy" },
    { "vpc-id", "VpcId" },
};

struct describe_walk {
    struct aws_call *call; /* context */
    const cJSON *ids;      /* InstanceIds, or NULL */
    const cJSON *filters;  /* Filters, or NULL */
    bool *seen;            /* per id of ids: found */
    cJSON *all;            /* matching items: status items, or {ReservationId, Item} with
                              Item an Instance tree or its rendering (a raw node) */
    struct aws_err *err;   /* for a bad filter */
    bool status;           /* DescribeInstanceStatus: the status items instead */
    bool include_all;      /* DescribeInstanceStatus' IncludeAllInstances */
};

static int
id_index(const cJSON *ids, const char *id)
{
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, ids)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return i;
        i++;
    }
    return -1;
}

static cJSON *status_item(struct aws_call *call, const struct ec2_instance_rec *r);

static const struct ec2_filter_def status_filters[] = {
    { "availability-zone", "AvailabilityZone" },
    { "instance-state-code", "InstanceState.Code" },
    { "instance-state-name", "InstanceState.Name" },
    { "instance-status.reachability", "InstanceStatus.Details.Status" },
    { "instance-status.status", "InstanceStatus.Status" },
    { "system-status.reachability", "SystemStatus.Details.Status" },
    { "system-status.status", "SystemStatus.Status" },
};

/* {ReservationId, Item}: Item is the rendering `raw` when there is one, else r's tree. */
static cJSON *
describe_entry(struct aws_call *call, const char *reservation_id, const char *raw,
               const struct ec2_instance_rec *r)
{
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "ReservationId", reservation_id);
    cJSON_AddItemToObject(entry, "Item", raw ? raw_ref(raw) : instance_item(call, r));
    return entry;
}

/* DescribeInstances without filters: a rendered item needs no row, only its key. */
static int
describe_key_visit(void *arg, const char *id, const char *reservation_id)
{
    struct describe_walk *w = arg;
    if (w->ids) {
        int k = id_index(w->ids, id);
        if (k < 0)
            return 0;
        w->seen[k] = true;
    }
    const char *raw = item_cache_find(w->call, id);
    if (raw) {
        cJSON_AddItemToArray(w->all, describe_entry(w->call, reservation_id, raw, NULL));
        return 0;
    }
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int found = ec2_store_get_instance(w->call->app->db, w->call->region, id, &r);
    if (found == 1)
        cJSON_AddItemToArray(
                w->all, describe_entry(w->call, reservation_id, item_cache_get(w->call, &r), &r));
    ec2_instance_rec_release(&r);
    return found < 0 ? -1 : 0;
}

static int
describe_visit(void *arg, const struct ec2_instance_rec *r)
{
    struct describe_walk *w = arg;
    if (w->ids) {
        int k = id_index(w->ids, r->id);
        if (k < 0)
            return 0;
        w->seen[k] = true;
    }
    cJSON *item;
    int m;
    if (w->status) {
        bool running = r->state_code == inst_states[ST_RUNNING].code;
        /* Without IncludeAllInstances only running instances have a status. */
        if (!running && !w->include_all)
            return 0;
        item = status_item(w->call, r);
        m = ec2_filter_match(status_filters, ARRAY_SIZE(status_filters), w->filters, item, w->err);
    } else {
        item = NULL;
        m = 1;
        if (w->filters) {
            item = instance_item(w->call, r);
            cJSON_AddStringToObject(item, "ReservationId", r->reservation_id);
            cJSON_AddStringToObject(item, "OwnerId", w->call->account_id);
            m = ec2_filter_match(instance_filters, ARRAY_SIZE(instance_filters), w->filters, item,
                                 w->err);
        }
        if (m == 1) {
            cJSON_Delete(item);
            item = describe_entry(w->call, r->reservation_id, item_cache_get(w->call, r), r);
        }
    }
    if (m == 1)
        cJSON_AddItemToArray(w->all, item);
    else
        cJSON_Delete(item);
    return m < 0 ? -1 : 0;
}

/* The shared part of DescribeInstances and DescribeInstanceStatus; fills *page.Items. */
static int
describe(struct aws_call *call, const cJSON *in, bool status, cJSON *page, struct aws_err *err)
{
    runtime_attach(call->app);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "InstanceIds");
    if (cJSON_GetArraySize(ids) == 0)
        ids = NULL;
    if (ids && cJSON_GetObjectItemCaseSensitive(in, "MaxResults"))
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_COMBINATION,
                           "The parameter instancesSet cannot be used with the parameter "
                           "maxResults");
    if (check_ids_shape(ids, err) < 0)
        return -1;
    struct describe_walk w = {
        .call = call,
        .ids = ids,
        .filters = cJSON_GetObjectItemCaseSensitive(in, "Filters"),
        .seen = xcalloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof(bool)),
        .all = cJSON_CreateArray(),
        .err = err,
        .status = status,
        .include_all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "IncludeAllInstances")),
    };
    int rc = !status && !w.filters
                     ? ec2_store_walk_instance_keys(call->app->db, call->region, describe_key_visit,
                                                    &w)
                     : ec2_store_walk_instances(call->app->db, call->region, describe_visit, &w);
    if (rc < 0 && !err->code)
        aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
    if (rc == 0 && ids) {
        struct buf missing = BUF_INIT;
        int n_missing = 0, i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, ids)
        {
            if (!w.seen[i++] && !strstr(missing.data, v->valuestring)) {
                buf_addf(&missing, "%s%s", n_missing ? ", " : "", v->valuestring);
                n_missing++;
            }
        }
        if (n_missing)
            rc = not_found(err, &missing, n_missing);
        buf_release(&missing);
    }
    free(w.seen);
    if (rc < 0) {
        cJSON_Delete(w.all);
        return -1;
    }
    return ec2_paginate(w.all, in, page, "Items", 5, 1000, err);
}

static void
move_token(cJSON *page, cJSON *out)
{
    cJSON *tok = cJSON_DetachItemFromObjectCaseSensitive(page, "NextToken");
    if (tok)
        cJSON_AddItemToObject(out, "NextToken", tok);
}

int
ec2_describe_instances(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    cJSON *page = cJSON_CreateObject();
    if (describe(call, in, false, page, err) < 0 || ec2_dry_run(in, err) < 0) {
        cJSON_Delete(page);
        return -1;
    }
    /* One Reservation per run of consecutive instances of the same reservation. */
    cJSON *reservations = cJSON_AddArrayToObject(out, "Reservations");
    cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "Items");
    cJSON *cur = NULL;
    char cur_id[32] = "";
    cJSON *item;
    while (items && (item = cJSON_DetachItemFromArray(items, 0)) != NULL) {
        const char *rid = str_of(item, "ReservationId");
        if (!cur || strcmp(cur_id, rid ? rid : "") != 0) {
            snprintf(cur_id, sizeof(cur_id), "%s", rid ? rid : "");
            cur = cJSON_CreateObject();
            cJSON_AddStringToObject(cur, "ReservationId", cur_id);
            cJSON_AddStringToObject(cur, "OwnerId", call->account_id);
            cJSON_AddArrayToObject(cur, "Groups");
            cJSON_AddArrayToObject(cur, "Instances");
            cJSON_AddItemToArray(reservations, cur);
        }
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cur, "Instances"),
                             cJSON_DetachItemFromObjectCaseSensitive(item, "Item"));
        cJSON_Delete(item);
    }
    move_token(page, out);
    cJSON_Delete(page);
    return 0;
}

/* ---- DescribeInstanceStatus ---- */

static cJSON *
status_part(const char *status, const char *reach, int64_t since_ms)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Status", status);
    if (reach) {
        cJSON *d = cJSON_AddArrayToObject(o, "Details");
        cJSON *e = cJSON_CreateObject();
        if (since_ms)
            cJSON_AddNumberToObject(e, "ImpairedSince", (double)since_ms);
        cJSON_AddStringToObject(e, "Name", "reachability");
        cJSON_AddStringToObject(e, "Status", reach);
        cJSON_AddItemToArray(d, e);
    }
    return o;
}

/*
 * A running instance whose tree is dead or frozen fails its instance check (reachability
 * failed, impaired); one in a failed zone fails its system check too. A healthy one reports
 * "initializing" for STATUS_INITIALIZING_MS of virtual time after its LaunchTime, then "ok".
 * Other states are "not-applicable", as AWS reports for instances that are not running.
 */
static cJSON *
status_item(struct aws_call *call, const struct ec2_instance_rec *r)
{
    struct app *app = call->app;
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "AvailabilityZone", r->az);
    cJSON_AddStringToObject(item, "InstanceId", r->id);
    cJSON_AddItemToObject(item, "InstanceState", state_json(r->state_code));
    if (r->state_code != inst_states[ST_RUNNING].code) {
        cJSON_AddItemToObject(item, "InstanceStatus", status_part("not-applicable", NULL, 0));
        cJSON_AddItemToObject(item, "SystemStatus", status_part("not-applicable", NULL, 0));
        return item;
    }
    bool dead = app->sup ? !sup_alive(app->sup, r->id) || sup_hung(app->sup, r->id)
                         : ec2_store_has_fault(app->db, "kill", r->id) == 1 ||
                                   ec2_store_has_fault(app->db, "hang", r->id) == 1;
    bool zone_down = ec2_store_has_fault(app->db, "az-down", r->az) == 1;
    /* A failure shows at once; otherwise the first checks are still running. */
    bool initializing = call->now_ms - r->launch_ms < STATUS_INITIALIZING_MS;
    cJSON_AddItemToObject(item, "InstanceStatus",
                          dead           ? status_part("impaired", "failed", call->now_ms)
                          : initializing ? status_part("initializing", "initializing", 0)
                                         : status_part("ok", "passed", 0));
    cJSON_AddItemToObject(item, "SystemStatus",
                          zone_down      ? status_part("impaired", "failed", call->now_ms)
                          : initializing ? status_part("initializing", "initializing", 0)
                                         : status_part("ok", "passed", 0));
    return item;
}

int
ec2_describe_instance_status(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err)
{
    cJSON *page = cJSON_CreateObject();
    if (describe(call, in, true, page, err) < 0) {
        cJSON_Delete(page);
        return -1;
    }
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(page, "Items");
    cJSON_AddItemToObject(out, "InstanceStatuses", items ? items : cJSON_CreateArray());
    move_token(page, out);
    cJSON_Delete(page);
    return 0;
}

/* ---- one instance: console, attributes, images ---- */

static int
load_one(struct aws_call *call, const cJSON *in, struct ec2_instance_rec *r, struct aws_err *err)
{
    const char *id = str_of(in, "InstanceId");
    if (!id || !*id)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter InstanceId");
    if (!ec2_id_well_formed(id, "i"))
        return aws_err_setx(err, 400, "InvalidInstanceID.Malformed", true, "Invalid id: \"%s\"",
                            id);
    int found = ec2_store_get_instance(call->app->db, call->region, id, r);
    if (found < 0)
        return aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
    if (found == 0)
        return aws_err_setx(err, 400, "InvalidInstanceID.NotFound", true,
                            "The instance ID '%s' does not exist", id);
    return 0;
}

int
ec2_get_console_output(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    if (load_one(call, in, &r, err) < 0) {
        ec2_instance_rec_release(&r);
        return -1;
    }
    struct buf path = BUF_INIT, text = BUF_INIT;
    instance_dir(call->app, r.id, &path);
    buf_adds(&path, "/console.log");
    FILE *f = fopen(path.data, "rb");
    if (f) {
        /* Only the most recent 64 KB is kept (EC2UG/instance-console). */
        if (fseek(f, 0, SEEK_END) == 0) {
            long size = ftell(f);
            fseek(f, size > CONSOLE_MAX ? size - CONSOLE_MAX : 0, SEEK_SET);
        }
        char chunk[8192];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            buf_add(&text, chunk, got);
        fclose(f);
    }
    cJSON_AddStringToObject(out, "InstanceId", r.id);
    cJSON_AddNumberToObject(out, "Timestamp", (double)call->now_ms);
    if (text.len) {
        struct buf b64 = BUF_INIT;
        buf_add_base64(&b64, text.data, text.len);
        cJSON_AddStringToObject(out, "Output", b64.data);
        buf_release(&b64);
    }
    buf_release(&path);
    buf_release(&text);
    ec2_instance_rec_release(&r);
    return 0;
}

static void
add_value(cJSON *out, const char *member, cJSON *value)
{
    cJSON *o = cJSON_AddObjectToObject(out, member);
    if (value)
        cJSON_AddItemToObject(o, "Value", value);
}

int
ec2_describe_instance_attribute(struct aws_call *call, const cJSON *in, cJSON *out,
                                struct aws_err *err)
{
    const char *attr = str_of(in, "Attribute");
    if (!attr)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter Attribute");
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    if (load_one(call, in, &r, err) < 0) {
        ec2_instance_rec_release(&r);
        return -1;
    }
    cJSON_AddStringToObject(out, "InstanceId", r.id);
    int ret = 0;
    if (strcmp(attr, "instanceType") == 0) {
        add_value(out, "InstanceType", cJSON_CreateString(r.instance_type));
    } else if (strcmp(attr, "userData") == 0) {
        /* No user data: an empty UserData, as AWS answers. */
        add_value(out, "UserData", *r.user_data ? cJSON_CreateString(r.user_data) : NULL);
    } else if (strcmp(attr, "disableApiTermination") == 0) {
        add_value(out, "DisableApiTermination", cJSON_CreateBool(r.disable_api_termination));
    } else if (strcmp(attr, "instanceInitiatedShutdownBehavior") == 0) {
        add_value(out, "InstanceInitiatedShutdownBehavior",
                  cJSON_CreateString(r.shutdown_behavior));
    } else if (strcmp(attr, "rootDeviceName") == 0) {
        add_value(out, "RootDeviceName", cJSON_CreateString("/dev/xvda"));
    } else if (strcmp(attr, "groupSet") == 0) {
        cJSON *g = cJSON_Parse(r.security_groups);
        cJSON_AddItemToObject(out, "Groups", g ? g : cJSON_CreateArray());
    } else if (strcmp(attr, "sourceDestCheck") == 0) {
        add_value(out, "SourceDestCheck", cJSON_CreateTrue());
    } else if (strcmp(attr, "ebsOptimized") == 0) {
        add_value(out, "EbsOptimized", cJSON_CreateFalse());
    } else if (strcmp(attr, "enaSupport") == 0) {
        add_value(out, "EnaSupport", cJSON_CreateTrue());
    } else if (strcmp(attr, "disableApiStop") == 0) {
        add_value(out, "DisableApiStop", cJSON_CreateFalse());
    } else if (strcmp(attr, "kernel") == 0) {
        add_value(out, "KernelId", NULL);
    } else if (strcmp(attr, "ramdisk") == 0) {
        add_value(out, "RamdiskId", NULL);
    } else if (strcmp(attr, "blockDeviceMapping") == 0) {
        cJSON_AddArrayToObject(out, "BlockDeviceMappings");
    } else if (strcmp(attr, "productCodes") == 0) {
        cJSON_AddArrayToObject(out, "ProductCodes");
    } else {
        ret = aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                          "Value (%s) for parameter attribute is invalid. Unknown attribute.",
                          attr);
    }
    ec2_instance_rec_release(&r);
    return ret;
}

/* The new value of one attribute: the structured member ({Value}) or Attribute + Value. */
static const cJSON *
modify_value(const cJSON *in, const char *member, const char *attr_name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, member);
    if (m)
        return cJSON_GetObjectItemCaseSensitive(m, "Value");
    const char *attr = str_of(in, "Attribute");
    if (attr && strcmp(attr, attr_name) == 0)
        return cJSON_GetObjectItemCaseSensitive(in, "Value");
    return NULL;
}

static int
require_stopped(const struct ec2_instance_rec *r, struct aws_err *err)
{
    if (r->state_code == inst_states[ST_STOPPED].code)
        return 0;
    return aws_err_setx(err, 400, "IncorrectInstanceState", true,
                        "The instance '%s' is not in the 'stopped' state.", r->id);
}

int
ec2_modify_instance_attribute(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err)
{
    (void)out;
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int ret = -1;
    if (load_one(call, in, &r, err) < 0)
        goto out;
    const cJSON *type = modify_value(in, "InstanceType", "instanceType");
    const cJSON *ud = modify_value(in, "UserData", "userData");
    const cJSON *dat = modify_value(in, "DisableApiTermination", "disableApiTermination");
    const cJSON *sdb = modify_value(in, "InstanceInitiatedShutdownBehavior",
                                    "instanceInitiatedShutdownBehavior");
    if (!type && !ud && !dat && !sdb) {
        aws_err_set(err, AWS_E_INVALID_PARAMETER_COMBINATION, "No attributes specified.");
        goto out;
    }
    if (type) {
        if (require_stopped(&r, err) < 0)
            goto out;
        if (!cJSON_IsString(type) || !strchr(type->valuestring, '.') ||
            strlen(type->valuestring) >= sizeof(r.instance_type)) {
            aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "Invalid value '%s' for InstanceType.",
                        cJSON_IsString(type) ? type->valuestring : "");
            goto out;
        }
        snprintf(r.instance_type, sizeof(r.instance_type), "%s", type->valuestring);
    }
    if (ud) {
        if (require_stopped(&r, err) < 0)
            goto out;
        const char *v = cJSON_IsString(ud) ? ud->valuestring : "";
        struct buf raw = BUF_INIT;
        int bad = buf_add_base64_decoded(&raw, v, strlen(v));
        size_t len = raw.len;
        buf_release(&raw);
        if (bad < 0 || len > USER_DATA_MAX) {
            aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                        bad < 0 ? "Invalid BASE64 encoding of user data."
                                : "User data is limited to 16384 bytes");
            goto out;
        }
        ec2_instance_rec_set(&r.user_data, v);
    }
    if (dat) {
        if (cJSON_IsBool(dat))
            r.disable_api_termination = cJSON_IsTrue(dat);
        else if (cJSON_IsString(dat) &&
                 (str_ieq(dat->valuestring, "true") || str_ieq(dat->valuestring, "false")))
            r.disable_api_termination = str_ieq(dat->valuestring, "true");
        else {
            aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                        "Value for parameter disableApiTermination is invalid.");
            goto out;
        }
    }
    if (sdb) {
        const char *v = cJSON_IsString(sdb) ? sdb->valuestring : "";
        if (strcmp(v, "stop") != 0 && strcmp(v, "terminate") != 0) {
            aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                        "Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid.",
                        v);
            goto out;
        }
        snprintf(r.shutdown_behavior, sizeof(r.shutdown_behavior), "%s", v);
    }
    if (ec2_store_put_instance(call->app->db, &r) < 0) {
        aws_err_set(err, AWS_E_INTERNAL_ERROR, "The state database failed.");
        goto out;
    }
    ret = 0;
out:
    ec2_instance_rec_release(&r);
    return ret;
}

int
ec2_create_image(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *name = str_of(in, "Name");
    if (!name || !*name)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter Name");
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int ret = -1;
    if (load_one(call, in, &r, err) < 0)
        goto out;
    if (r.state_code != inst_states[ST_RUNNING].code &&
        r.state_code != inst_states[ST_STOPPED].code) {
        aws_err_setx(err, 400, "IncorrectInstanceState", true,
                     "The instance '%s' is not in a state from which an image can be created.",
                     r.id);
        goto out;
    }
    struct buf upper = BUF_INIT;
    instance_dir(call->app, r.id, &upper);
    buf_adds(&upper, "/upper");
    mkdir_p(upper.data);
    char image_id[32];
    ret = ec2_image_create_from_disk(call, r.image_id, upper.data, name, str_of(in, "Description"),
                                     r.id, image_id, sizeof(image_id), err);
    buf_release(&upper);
    if (ret == 0)
        cJSON_AddStringToObject(out, "ImageId", image_id);
out:
    ec2_instance_rec_release(&r);
    return ret;
}

/* ---- hooks: start, stop, reset, status ---- */

struct boot_walk {
    struct app *app; /* the app */
    int booted;      /* count */
};

/* At start: the instances that were running boot again (a host reboot: no user data). */
static int
restart_visit(void *arg, const struct ec2_instance_rec *row)
{
    struct boot_walk *w = arg;
    struct app *app = w->app;
    struct ec2_instance_rec r = *row;
    r.user_data = xstrdup(row->user_data);
    r.iam_profile = xstrdup(row->iam_profile);
    r.security_groups = xstrdup(row->security_groups);
    r.metadata_options = xstrdup(row->metadata_options);
    r.ports = xstrdup(row->ports);
    struct aws_call call;
    internal_call(app, r.region, &call);
    enum inst_state s = state_of_code(r.state_code);
    bool changed = true;
    if (s == ST_PENDING || s == ST_RUNNING) {
        set_state(&r, ST_RUNNING);
        r.reboot_pending = false;
        bool dead = ec2_store_has_fault(app->db, "kill", r.id) == 1 ||
                    ec2_store_has_fault(app->db, "az-down", r.az) == 1;
        struct aws_err err;
        aws_err_clear(&err);
        if (!dead && !instance_alive(app, r.id)) {
            if (instance_boot(&call, &r, &err) < 0)
                log_error("ec2: cannot boot %s again: %s", r.id, err.message);
            else
                w->booted++;
            if (app->sup && ec2_store_has_fault(app->db, "hang", r.id) == 1)
                sup_hang(app->sup, r.id);
        }
    } else if (s == ST_STOPPING) {
        set_state(&r, ST_STOPPED);
    } else if (s == ST_SHUTTING_DOWN) {
        set_state(&r, ST_TERMINATED);
        r.terminated_ms = call.now_ms;
    } else {
        changed = false;
    }
    if (changed)
        ec2_store_put_instance(app->db, &r);
    ec2_instance_rec_release(&r);
    return 0;
}

static void
boot_all(struct app *app)
{
    if (db_begin(app->db, true) < 0)
        return;
    struct boot_walk w = { app, 0 };
    if (ec2_store_walk_instances(app->db, NULL, restart_visit, &w) < 0 || db_commit(app->db) < 0)
        db_rollback(app->db);
    if (w.booted)
        log_info("ec2: booted %d instance(s) again", w.booted);
    expiry_rearm(app);
}

static void
boot_timer_fired(uv_timer_t *t)
{
    boot_all(t->data);
}

int
ec2_instances_start(struct app *app, char *errbuf, size_t errsz)
{
    (void)errbuf;
    (void)errsz;
    /* A fresh start, even for an app at the address of one that stopped (unit tests). */
    rt.app = NULL;
    runtime_attach(app);
    if (app->loop) {
        /* The first loop turn comes after the server listens, when its port is known. */
        uv_timer_init(app->loop, &rt.boot_timer);
        rt.boot_timer.data = app;
        rt.boot_timer_init = true;
        uv_timer_start(&rt.boot_timer, boot_timer_fired, 0, 0);
    } else {
        boot_all(app);
    }
    return 0;
}

static int
kill_visit(void *arg, const struct ec2_instance_rec *r)
{
    struct app *app = arg;
    if (app->sup && sup_alive(app->sup, r->id))
        sup_kill(app->sup, r->id);
    return 0;
}

static int
kill_and_remove_visit(void *arg, const struct ec2_instance_rec *r)
{
    kill_visit(arg, r);
    remove_instance_dir(arg, r->id);
    return 0;
}

void
ec2_instances_reset(struct app *app)
{
    runtime_attach(app);
    launch_cancel(app);
    rt.ignore_exits = true;
    ec2_store_walk_instances(app->db, NULL, kill_and_remove_visit, app);
    rt.ignore_exits = false;
    ec2_images_reset(app);
    if (rt.expiry_timer && app->clock)
        vclock_timer_cancel(app->clock, rt.expiry_timer);
    rt.expiry_timer = 0;
}

void
ec2_instances_stop(struct app *app)
{
    runtime_attach(app);
    /* Shutdown of fogbank = power loss of the hosts: the rows keep their states, so the
       next start boots the running ones again (and the pending ones, whose boots are
       forgotten here). */
    launch_cancel(app);
    item_cache_clear();
    rt.ignore_exits = true;
    ec2_store_walk_instances(app->db, NULL, kill_visit, app);
    if (rt.expiry_timer && app->clock)
        vclock_timer_cancel(app->clock, rt.expiry_timer);
    rt.expiry_timer = 0;
    if (rt.boot_timer_init) {
        uv_timer_stop(&rt.boot_timer);
        uv_close((uv_handle_t *)&rt.boot_timer, NULL);
        rt.boot_timer_init = false;
    }
}

static int
status_visit(void *arg, const struct ec2_instance_rec *r)
{
    cJSON *list = arg;
    struct app *app = rt.app;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "state", ec2_instance_state_name(r->state_code));
    cJSON_AddStringToObject(o, "az", r->az);
    cJSON_AddStringToObject(o, "private_ip", r->private_ip);
    cJSON_AddStringToObject(o, "image_id", r->image_id);
    cJSON *pids = cJSON_AddArrayToObject(o, "pids");
    if (app && app->sup) {
        int buf[MAX_PIDS];
        size_t n = sup_pids(app->sup, r->id, buf, MAX_PIDS);
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(pids, cJSON_CreateNumber(buf[i]));
        cJSON_AddBoolToObject(o, "alive", sup_alive(app->sup, r->id));
        cJSON_AddBoolToObject(o, "hung", sup_hung(app->sup, r->id));
    }
    cJSON *ports = cJSON_Parse(r->ports ? r->ports : "{}");
    cJSON_AddItemToObject(o, "ports", ports ? ports : cJSON_CreateObject());
    cJSON_AddItemToArray(list, o);
    return 0;
}

void
ec2_instances_status(struct app *app, cJSON *out)
{
    runtime_attach(app);
    cJSON *list = cJSON_AddArrayToObject(out, "instances");
    ec2_store_walk_instances(app->db, NULL, status_visit, list);
    if (app->sup)
        cJSON_AddStringToObject(out, "isolation", sup_mode(app->sup));
}

/* ---- hooks: the control actions (faults, ports) ---- */

/* Boots an instance that is running but whose tree is gone (after kill / az-down). */
static void
revive(struct aws_call *call, const char *id)
{
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    if (ec2_store_get_instance(call->app->db, NULL, id, &r) == 1 &&
        r.state_code == inst_states[ST_RUNNING].code && call->app->sup &&
        !sup_alive(call->app->sup, id)) {
        struct aws_err err;
        aws_err_clear(&err);
        struct aws_call c = *call;
        c.region = r.region;
        if (instance_boot(&c, &r, &err) < 0)
            log_error("ec2: cannot revive %s: %s", id, err.message);
        else
            ec2_store_put_instance(call->app->db, &r);
    }
    ec2_instance_rec_release(&r);
}

struct fault_walk {
    struct aws_call *call; /* context */
    const char *az;        /* zone going down / up */
    bool down;             /* true: kill its instances; false: revive them */
    cJSON *list;           /* fault list answer */
};

static int
az_visit(void *arg, const struct ec2_instance_rec *r)
{
    struct fault_walk *w = arg;
    if (strcmp(r->az, w->az) != 0 || r->state_code != inst_states[ST_RUNNING].code)
        return 0;
    struct app *app = w->call->app;
    if (w->down) {
        if (app->sup && sup_alive(app->sup, r->id)) {
            rt.in_call++;
            sup_kill(app->sup, r->id);
            rt.in_call--;
        }
    } else if (ec2_store_has_fault(app->db, "kill", r->id) != 1) {
        revive(w->call, r->id);
    }
    return 0;
}

static int
fault_list_visit(void *arg, const char *kind, const char *target, int64_t since_ms)
{
    struct fault_walk *w = arg;
    cJSON *o = cJSON_CreateObject();
    char iso[32];
    time_format_iso8601(since_ms, iso);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "target", target);
    cJSON_AddStringToObject(o, "since", iso);
    cJSON_AddItemToArray(w->list, o);
    return 0;
}

/* A fault on one instance: the instance must exist and be running. */
static int
fault_instance(struct aws_call *call, const cJSON *in, struct ec2_instance_rec *r,
               struct aws_err *err)
{
    const char *id = str_of(in, "instance_id");
    if (!id)
        return aws_err_setx(err, 400, "BadRequest", true, "\"instance_id\" is required");
    int found = ec2_store_get_instance(call->app->db, NULL, id, r);
    if (found != 1)
        return aws_err_setx(err, 404, "InvalidInstanceID.NotFound", true,
                            "The instance ID '%s' does not exist", id);
    if (r->state_code != inst_states[ST_RUNNING].code)
        return aws_err_setx(err, 409, "IncorrectInstanceState", true,
                            "The instance '%s' is not running (it is %s)", id,
                            ec2_instance_state_name(r->state_code));
    return 0;
}

/* "<region>a", "b" or "c" of a region fogbank knows. */
static bool
valid_az(const char *az)
{
    size_t n = az ? strlen(az) : 0;
    if (n < 2 || n > 40 || az[n - 1] < 'a' || az[n - 1] > 'c')
        return false;
    char region[40];
    snprintf(region, sizeof(region), "%.*s", (int)(n - 1), az);
    return ec2_region_get(region) != NULL;
}

static int
fault_action(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct app *app = call->app;
    const char *action = str_of(in, "action");
    if (!action)
        return aws_err_setx(
                err, 400, "BadRequest", true,
                "\"action\" must be one of kill, hang, health-fail, az-down, az-up, clear, "
                "list");
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int ret = -1;
    if (strcmp(action, "kill") == 0 || strcmp(action, "hang") == 0) {
        if (fault_instance(call, in, &r, err) < 0)
            goto out;
        ec2_store_put_fault(app->db, action, r.id, call->now_ms);
        if (app->sup) {
            rt.in_call++;
            if (action[0] == 'k')
                sup_kill(app->sup, r.id);
            else
                sup_hang(app->sup, r.id);
            rt.in_call--;
        }
        cJSON_AddStringToObject(out, "instance_id", r.id);
    } else if (strcmp(action, "health-fail") == 0) {
        /* The processes are untouched: only load-balancer health checks of the instance (and
           requests proxied to it) answer 500 while it is in force (ec2_api_health_fail). */
        if (fault_instance(call, in, &r, err) < 0)
            goto out;
        ec2_store_put_fault(app->db, action, r.id, call->now_ms);
        cJSON_AddStringToObject(out, "instance_id", r.id);
    } else if (strcmp(action, "az-down") == 0 || strcmp(action, "az-up") == 0) {
        const char *az = str_of(in, "az");
        if (!valid_az(az)) {
            aws_err_setx(err, 400, "BadRequest", true,
                         "\"az\" must name an availability zone such as us-east-1a");
            goto out;
        }
        bool down = strcmp(action, "az-down") == 0;
        if (down)
            ec2_store_put_fault(app->db, "az-down", az, call->now_ms);
        else
            ec2_store_delete_faults(app->db, "az-down", az);
        struct fault_walk w = { call, az, down, NULL };
        ec2_store_walk_instances(app->db, NULL, az_visit, &w);
        cJSON_AddStringToObject(out, "az", az);
    } else if (strcmp(action, "clear") == 0) {
        const char *id = str_of(in, "instance_id");
        /* Clearing a kill boots the instance again from its disk (a host repair); clearing
           a hang thaws it. Without an id, every fault goes, zones included. */
        cJSON *ids = cJSON_CreateArray();
        struct fault_walk w = { call, NULL, false, cJSON_CreateArray() };
        ec2_store_walk_faults(app->db, fault_list_visit, &w);
        const cJSON *f;
        cJSON_ArrayForEach(f, w.list)
        {
            const char *kind = str_of(f, "kind"), *target = str_of(f, "target");
            if (id && strcmp(target, id) != 0)
                continue;
            if (strcmp(kind, "hang") == 0 && app->sup)
                sup_unhang(app->sup, target);
            ec2_store_delete_faults(app->db, kind, target);
            if (strcmp(kind, "kill") == 0)
                cJSON_AddItemToArray(ids, cJSON_CreateString(target));
            if (strcmp(kind, "az-down") == 0) {
                struct fault_walk zw = { call, target, false, NULL };
                ec2_store_walk_instances(app->db, NULL, az_visit, &zw);
            }
        }
        cJSON_ArrayForEach(f, ids)
        {
            revive(call, f->valuestring);
        }
        cJSON_Delete(w.list);
        cJSON_AddItemToObject(out, "revived", ids);
    } else if (strcmp(action, "list") != 0) {
        aws_err_setx(err, 400, "BadRequest", true,
                     "\"action\" must be one of kill, hang, health-fail, az-down, az-up, clear, "
                     "list");
        goto out;
    }
    struct fault_walk lw = { call, NULL, false, cJSON_AddArrayToObject(out, "faults") };
    ec2_store_walk_faults(app->db, fault_list_visit, &lw);
    ret = 0;
out:
    ec2_instance_rec_release(&r);
    return ret;
}

/* POST /_fogbank/ports {"instance_id", "port"}: maps another instance port to a host port. */
static int
ports_action(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *id = str_of(in, "instance_id");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(in, "port");
    if (!id || !cJSON_IsNumber(port) || port->valueint < 1 || port->valueint > 65535)
        return aws_err_setx(err, 400, "BadRequest", true,
                            "give \"instance_id\" and \"port\" (1-65535)");
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    int ret = -1;
    if (ec2_store_get_instance(call->app->db, NULL, id, &r) != 1) {
        aws_err_setx(err, 404, "InvalidInstanceID.NotFound", true,
                     "The instance ID '%s' does not exist", id);
        goto out;
    }
    cJSON *ports = cJSON_Parse(r.ports);
    if (!ports)
        ports = cJSON_CreateObject();
    char key[8];
    snprintf(key, sizeof(key), "%d", port->valueint);
    cJSON *host = cJSON_GetObjectItemCaseSensitive(ports, key);
    if (!host) {
        int hp = alloc_host_port();
        if (hp < 0) {
            cJSON_Delete(ports);
            aws_err_set(err, AWS_E_INTERNAL_ERROR, "No free loopback port.");
            goto out;
        }
        host = cJSON_AddNumberToObject(ports, key, hp);
        char *text = cJSON_PrintUnformatted(ports);
        ec2_instance_rec_set(&r.ports, text);
        cJSON_free(text);
        ec2_store_put_instance(call->app->db, &r);
    }
    cJSON_AddStringToObject(out, "instance_id", r.id);
    cJSON_AddNumberToObject(out, "port", port->valueint);
    cJSON_AddNumberToObject(out, "host_port", host->valueint);
    cJSON_Delete(ports);
    ret = 0;
out:
    ec2_instance_rec_release(&r);
    return ret;
}

int
ec2_instances_action(struct aws_call *call, const char *kind, const cJSON *in, cJSON *out,
                     struct aws_err *err)
{
    runtime_attach(call->app);
    if (strcmp(kind, "faults") == 0)
        return fault_action(call, in, out, err) < 0 ? -1 : 1;
    if (strcmp(kind, "ports") == 0)
        return ports_action(call, in, out, err) < 0 ? -1 : 1;
    if (strcmp(kind, "images/import") == 0)
        return ec2_images_import(call, in, out, err) < 0 ? -1 : 1;
    return 0;
}
