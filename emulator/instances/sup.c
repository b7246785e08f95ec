/*
 * The instance supervisor, loop side: a table of running instances keyed by id, behind a
 * backend seam (struct sup_backend) with two implementations — real process trees spawned
 * as `fogbank-init` or `fogbank __instance-init` (the init's own code is init.c), and an
 * in-memory fake for
 * unit tests. It reports each exit through one callback and must not know what an exit means
 * to EC2, nor block the loop except in sup_free().
 */
#include "../common.h"
#include "sup.h"

#include "../buf.h"
#include "../clock.h"
#include "../log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* After the tree got SIGKILL, how long the outer init has to reap it and exit before it is
 * SIGKILLed itself (it reaps PID 1, which the host's init may not do). */
#define SUP_REAP_GRACE_MS 2000
/* How long sup_free() waits for every init to be gone before it SIGKILLs the stragglers. */
#define SUP_FREE_WAIT_MS 3000

#define SUP_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SUP_DEFAULT_HOME "HOME=/root"

/* What the real backend learned about an instance's tree (from /proc, lazily). */
enum sup_kind {
    SUP_KIND_UNKNOWN,   /* the init has not forked its first child yet */
    SUP_KIND_NAMESPACE, /* the leader is PID 1 of its own PID namespace */
    SUP_KIND_GROUP,     /* the leader heads a process group on the host */
};

/* What the real backend's timer does when it fires. */
enum sup_timer_phase {
    SUP_TIMER_IDLE,     /* not armed */
    SUP_TIMER_ESCALATE, /* the stop's grace is over: SIGKILL the tree */
    SUP_TIMER_REAP,     /* the tree was SIGKILLed: SIGKILL the outer init if still there */
};

/* One booted instance. */
struct sup_inst {
    struct sup *sup; /* the owner */
    char *id;        /* instance id (owned) */
    bool hung;       /* frozen by sup_hang() */
    /* Real backend only. */
    uv_process_t proc;          /* the outer init; proc.pid is its host pid */
    uv_timer_t timer;           /* stop escalation / reap backup, see phase */
    bool handles_init;          /* proc and timer are initialized: close them, free later */
    int open_handles;           /* handles not yet closed; the struct is freed at 0 */
    enum sup_timer_phase phase; /* what the timer does next */
    int leader;                 /* host pid of PID 1 / the group leader; 0 until found */
    enum sup_kind kind;         /* valid once leader != 0 */
};

/* The seam of STYLE rule 7: what differs between real process trees and the fake. */
struct sup_backend {
    /* Starts the instance; -1 with a message. On failure the caller releases `in`. */
    int (*boot)(struct sup *s, struct sup_inst *in, const struct sup_spec *spec, char *errbuf,
                size_t errsz);
    /* Stop / kill; may report the exit (and free `in`) before returning. */
    int (*stop)(struct sup_inst *in, int64_t grace_ms);
    int (*kill)(struct sup_inst *in);
    /* Sends sig to every process of the tree. */
    void (*signal_all)(struct sup_inst *in, int sig);
    size_t (*pids)(struct sup_inst *in, int *pids, size_t max);
    /* Frees `in` (after closing its handles); it is no longer in the table. */
    void (*release)(struct sup_inst *in);
    /* sup_free(), in two passes over all instances: kill now; then wait until gone (by the
     * monotonic deadline) without running the loop. */
    void (*kill_now)(struct sup_inst *in);
    void (*wait_gone)(struct sup_inst *in, uint64_t deadline_ns);
};

struct sup {
    const struct sup_backend *be; /* real or fake */
    uv_loop_t *loop;              /* spawns and timers run here; NULL only for a fake */
    char *init_exe;               /* the executable every init runs as */
    enum sup_init_kind init_kind; /* and how its command line starts */
    bool namespaces;              /* sup_mode(): the probe (or FOGBANK_ISOLATION) said so */
    bool probe_pending;           /* namespaces is a guess until the first boot probes */
    sup_exit_fn *on_exit;         /* exit callback, may be NULL */
    void *arg;                    /* its argument */
    struct sup_inst **insts;      /* the running instances, unordered */
    size_t n;                     /* entries in insts */
    size_t alloc;                 /* capacity of insts */
};

/* ---- the table ---- */

static struct sup_inst *
table_find(const struct sup *s, const char *id)
{
    if (!s || !id)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->insts[i]->id, id) == 0)
            return s->insts[i];
    return NULL;
}

static void
table_add(struct sup *s, struct sup_inst *in)
{
    if (s->n == s->alloc) {
        s->alloc = s->alloc ? s->alloc * 2 : 16;
        s->insts = xrealloc(s->insts, s->alloc * sizeof(*s->insts));
    }
    s->insts[s->n++] = in;
}

static void
table_remove(struct sup *s, struct sup_inst *in)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->insts[i] == in) {
            s->insts[i] = s->insts[--s->n];
            return;
        }
    }
}

/*
 * An instance's init has exited: it leaves the table first (so the callback may boot the
 * same id again), then the owner hears of it, then the entry is released.
 */
static void
report_exit(struct sup_inst *in, int status)
{
    struct sup *s = in->sup;
    const struct sup_backend *be = s->be;
    table_remove(s, in);
    log_info("instance %s: init exited with status %d", in->id, status);
    if (s->on_exit)
        s->on_exit(s->arg, in->id, status);
    be->release(in);
}

static void
inst_free(struct sup_inst *in)
{
    free(in->id);
    free(in);
}

/* ---- /proc ---- */

/* A growable list of pids. */
struct pidvec {
    int *v;       /* the pids */
    size_t n;     /* in use */
    size_t alloc; /* capacity */
};

static bool
pidvec_has(const struct pidvec *pv, int pid)
{
    for (size_t i = 0; i < pv->n; i++)
        if (pv->v[i] == pid)
            return true;
    return false;
}

static void
pidvec_add(struct pidvec *pv, int pid)
{
    if (pid <= 0 || pidvec_has(pv, pid))
        return;
    if (pv->n == pv->alloc) {
        pv->alloc = pv->alloc ? pv->alloc * 2 : 16;
        pv->v = xrealloc(pv->v, pv->alloc * sizeof(*pv->v));
    }
    pv->v[pv->n++] = pid;
}

static int
read_small(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, out, n - 1);
    close(fd);
    if (got < 0)
        return -1;
    out[got] = '\0';
    return 0;
}

/* When pid started, in clock ticks after boot (field 22 of /proc/PID/stat); -1 if gone. */
static int
proc_start_time(int pid, unsigned long long *start)
{
    char path[64], text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (read_small(path, text, sizeof(text)) < 0)
        return -1;
    /* The command name may hold spaces and parentheses: the fields start after the last ')'. */
    char *p = strrchr(text, ')');
    if (!p)
        return -1;
    if (sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               start) != 1)
        return -1;
    return 0;
}

/* "pid:[4026531836]": which PID namespace pid is in; -1 if it is gone. */
static int
proc_pidns(int pid, char *out, size_t n)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
    ssize_t len = readlink(path, out, n - 1);
    if (len < 0)
        return -1;
    out[len] = '\0';
    return 0;
}

/* Appends the children of every thread of pid (Linux >= 3.5 with CONFIG_PROC_CHILDREN). */
static void
proc_children(int pid, struct pidvec *out)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        struct buf file = BUF_INIT;
        char list[4096];
        buf_addf(&file, "/proc/%d/task/%s/children", pid, de->d_name);
        if (read_small(file.data, list, sizeof(list)) == 0) {
            char *p = list, *end;
            for (long child; (child = strtol(p, &end, 10)) > 0; p = end)
                pidvec_add(out, (int)child);
        }
        buf_release(&file);
    }
    closedir(d);
}

/* ---- the real backend ---- */

/*
 * Finds the leader — PID 1 of the instance's namespace, or the process-group leader — as the
 * oldest child of the outer init (in group mode the init also adopts orphans), and whether
 * it lives in a PID namespace of its own. The init decides per boot whether namespaces work,
 * so this is read from /proc rather than assumed from sup_mode().
 */
static int
real_leader(struct sup_inst *in)
{
    if (in->leader)
        return in->leader;
    struct pidvec kids = { 0 };
    proc_children(in->proc.pid, &kids);
    int best = 0;
    unsigned long long best_start = 0;
    for (size_t i = 0; i < kids.n; i++) {
        unsigned long long start;
        if (proc_start_time(kids.v[i], &start) == 0 && (!best || start < best_start)) {
            best = kids.v[i];
            best_start = start;
        }
    }
    free(kids.v);
    char outer_ns[64], leader_ns[64];
    if (!best || proc_pidns(in->proc.pid, outer_ns, sizeof(outer_ns)) < 0 ||
        proc_pidns(best, leader_ns, sizeof(leader_ns)) < 0)
        return 0;
    in->leader = best;
    in->kind = strcmp(outer_ns, leader_ns) == 0 ? SUP_KIND_GROUP : SUP_KIND_NAMESPACE;
    return best;
}

static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/*
 * Every host pid of the instance: the outer init, the leader, then the rest in pid order —
 * the descendants of the outer init. That is the whole instance: in a PID namespace every
 * process descends from its PID 1, which adopts the orphans; in group mode the outer init
 * is a child subreaper and adopts them itself (daemons that left the group included).
 * Walking the tree costs what the instance has; scanning all of /proc for a namespace or
 * a group cost ~50 ms per call with 1000 instances running.
 */
static void
real_collect(struct sup_inst *in, struct pidvec *out)
{
    pidvec_add(out, in->proc.pid);
    int leader = real_leader(in);
    if (!leader)
        return;
    pidvec_add(out, leader);
    size_t first_rest = out->n;
    for (size_t i = 0; i < out->n; i++)
        proc_children(out->v[i], out);
    if (out->n > first_rest)
        qsort(out->v + first_rest, out->n - first_rest, sizeof(int), cmp_int);
}

static size_t
real_pids(struct sup_inst *in, int *pids, size_t max)
{
    struct pidvec pv = { 0 };
    real_collect(in, &pv);
    size_t n = pv.n < max ? pv.n : max;
    if (n)
        memcpy(pids, pv.v, n * sizeof(int));
    free(pv.v);
    return n;
}

/*
 * Signals every process of the tree. For SIGSTOP the tree is walked again until no new
 * process shows up: one forked or reparented during a walk would be missed, but a stopped
 * process forks no more, so this ends.
 */
static void
real_signal_all(struct sup_inst *in, int sig)
{
    struct pidvec done = { 0 };
    for (int round = 0; round < 10; round++) {
        struct pidvec pv = { 0 };
        size_t before = done.n;
        real_collect(in, &pv);
        for (size_t i = 0; i < pv.n; i++) {
            if (pidvec_has(&done, pv.v[i]))
                continue;
            kill(pv.v[i], sig);
            pidvec_add(&done, pv.v[i]);
        }
        free(pv.v);
        if (done.n == before || sig != SIGSTOP)
            break;
    }
    free(done.v);
}

/*
 * SIGKILLs the tree but not the outer init, which must live to reap PID 1 (the host's init
 * may never reap it) and then exits with 128 + SIGKILL; SIGCONT in case it is frozen. Namespace
 * mode: killing PID 1 makes the kernel kill the rest. Group mode: every process we can find.
 * Before the leader exists there is only the outer init to kill.
 */
static void
real_kill_tree(struct sup_inst *in)
{
    int leader = real_leader(in);
    if (!leader) {
        kill(in->proc.pid, SIGKILL);
        return;
    }
    if (in->kind == SUP_KIND_NAMESPACE) {
        kill(leader, SIGKILL);
    } else {
        struct pidvec pv = { 0 };
        real_collect(in, &pv);
        for (size_t i = 1; i < pv.n; i++)
            kill(pv.v[i], SIGKILL);
        kill(-leader, SIGKILL);
        free(pv.v);
    }
    kill(in->proc.pid, SIGCONT);
}

static void real_timer_fired(uv_timer_t *t);

static void
real_timer_start(struct sup_inst *in, enum sup_timer_phase phase, int64_t ms)
{
    in->phase = phase;
    uv_timer_start(&in->timer, real_timer_fired, ms > 0 ? (uint64_t)ms : 0, 0);
}

static void
real_timer_fired(uv_timer_t *t)
{
    struct sup_inst *in = t->data;
    enum sup_timer_phase phase = in->phase;
    in->phase = SUP_TIMER_IDLE;
    if (phase == SUP_TIMER_ESCALATE) {
        log_info("instance %s: still running after the stop's grace; killing it", in->id);
        real_kill_tree(in);
        real_timer_start(in, SUP_TIMER_REAP, SUP_REAP_GRACE_MS);
    } else if (phase == SUP_TIMER_REAP) {
        kill(in->proc.pid, SIGKILL);
    }
}

static int
real_stop(struct sup_inst *in, int64_t grace_ms)
{
    /* The outer init forwards SIGTERM to PID 1, which shuts the namespace down. */
    kill(in->proc.pid, SIGTERM);
    if (in->phase == SUP_TIMER_REAP)
        return 0; /* already being killed */
    if (in->phase == SUP_TIMER_ESCALATE &&
        uv_timer_get_due_in(&in->timer) <= (uint64_t)(grace_ms > 0 ? grace_ms : 0))
        return 0; /* an earlier stop escalates sooner */
    real_timer_start(in, SUP_TIMER_ESCALATE, grace_ms);
    return 0;
}

static int
real_kill(struct sup_inst *in)
{
    real_kill_tree(in);
    real_timer_start(in, SUP_TIMER_REAP, SUP_REAP_GRACE_MS);
    return 0;
}

static void
real_on_close(uv_handle_t *h)
{
    struct sup_inst *in = h->data;
    if (--in->open_handles == 0)
        inst_free(in);
}

static void
real_release(struct sup_inst *in)
{
    if (!in->handles_init) {
        inst_free(in);
        return;
    }
    /* libuv owns the handles until their close callbacks: free after both. */
    in->open_handles = 2;
    uv_close((uv_handle_t *)&in->proc, real_on_close);
    uv_close((uv_handle_t *)&in->timer, real_on_close);
}

static void
real_exited(uv_process_t *p, int64_t exit_status, int term_signal)
{
    struct sup_inst *in = p->data;
    uv_timer_stop(&in->timer);
    in->phase = SUP_TIMER_IDLE;
    report_exit(in, term_signal ? 128 + term_signal : (int)exit_status);
}

static void
real_kill_now(struct sup_inst *in)
{
    uv_timer_stop(&in->timer);
    in->phase = SUP_TIMER_IDLE;
    real_kill_tree(in);
}

/*
 * Waits (blocking: the loop is being torn down) until the outer init has exited, which it
 * does after reaping the whole tree, and reaps it ourselves: its uv handle is closed next,
 * so libuv will never wait for it.
 */
static void
real_wait_gone(struct sup_inst *in, uint64_t deadline_ns)
{
    int pid = in->proc.pid, st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        if (vclock_mono_ns() >= deadline_ns)
            break;
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    log_error("instance %s: init %d did not exit after SIGKILL of its tree; killing it", in->id,
              pid);
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* mkdir -p. */
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

/* argv for uv_spawn: owned strings, NULL-terminated. */
struct argvec {
    char **v;     /* the strings, then NULL */
    size_t n;     /* strings */
    size_t alloc; /* capacity including the NULL */
};

static void
argvec_add(struct argvec *a, const char *s)
{
    if (a->n + 2 > a->alloc) {
        a->alloc = a->alloc ? a->alloc * 2 : 16;
        a->v = xrealloc(a->v, a->alloc * sizeof(*a->v));
    }
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
}

static void
argvec_release(struct argvec *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* The start of every init's command line: argv[0] is what ps shows ("fogbank-init --id i-..."
 * or "fogbank __instance-init --id i-..."), not the path. */
static void
init_argv_start(const struct sup *s, struct argvec *a)
{
    if (s->init_kind == SUP_INIT_STANDALONE) {
        argvec_add(a, SUP_INIT_NAME);
    } else {
        argvec_add(a, "fogbank");
        argvec_add(a, "__instance-init");
    }
}

/* realpath() with a message; the init chdirs and chroots, so every path it gets is absolute. */
static char *
abs_path(const char *what, const char *path, bool want_dir, char *errbuf, size_t errsz)
{
    char *abs = realpath(path, NULL);
    struct stat st;
    if (!abs || stat(abs, &st) < 0) {
        snprintf(errbuf, errsz, "%s %s: %s", what, path, strerror(errno));
        free(abs);
        return NULL;
    }
    if (want_dir != S_ISDIR(st.st_mode)) {
        snprintf(errbuf, errsz, "%s %s: %s", what, path,
                 want_dir ? "not a directory" : "is a directory");
        free(abs);
        return NULL;
    }
    return abs;
}

/* Adds `--name <absolute path>`; -1 with a message if the path is unusable. */
static int
add_path_arg(struct argvec *a, const char *name, const char *what, const char *path, bool want_dir,
             char *errbuf, size_t errsz)
{
    char *abs = abs_path(what, path, want_dir, errbuf, errsz);
    if (!abs)
        return -1;
    argvec_add(a, name);
    argvec_add(a, abs);
    free(abs);
    return 0;
}

static bool
env_has(const char *const *env, const char *key)
{
    size_t n = strlen(key);
    for (; env && *env; env++)
        if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
            return true;
    return false;
}

static int
real_boot(struct sup *s, struct sup_inst *in, const struct sup_spec *spec, char *errbuf,
          size_t errsz)
{
    struct argvec args = { 0 }, env = { 0 };
    char num[32];
    int ret = -1;

    if (mkdir_p(spec->dir) < 0) {
        snprintf(errbuf, errsz, "cannot create the instance directory %s: %s", spec->dir,
                 strerror(errno));
        return -1;
    }
    init_argv_start(s, &args);
    argvec_add(&args, "--id");
    argvec_add(&args, spec->id);
    if (add_path_arg(&args, "--dir", "instance directory", spec->dir, true, errbuf, errsz) < 0)
        goto out;
    for (const char *const *l = spec->layers; l && *l; l++)
        if (add_path_arg(&args, "--layer", "AMI layer", *l, true, errbuf, errsz) < 0)
            goto out;
    if (spec->boot_script && add_path_arg(&args, "--boot-script", "boot script", spec->boot_script,
                                          false, errbuf, errsz) < 0)
        goto out;
    if (spec->user_data &&
        add_path_arg(&args, "--user-data", "user data", spec->user_data, false, errbuf, errsz) < 0)
        goto out;
    snprintf(num, sizeof(num), "%ld", (long)getpid());
    argvec_add(&args, "--ppid");
    argvec_add(&args, num);
    argvec_add(&args, "--isolation");
    argvec_add(&args, s->namespaces ? "namespaces" : "process-group");

    for (const char *const *e = spec->env; e && *e; e++)
        argvec_add(&env, *e);
    if (!env_has(spec->env, "PATH"))
        argvec_add(&env, SUP_DEFAULT_PATH);
    if (!env_has(spec->env, "HOME"))
        argvec_add(&env, SUP_DEFAULT_HOME);

    /* The init writes the console itself; it inherits nothing from the server. */
    uv_stdio_container_t stdio[3] = {
        { .flags = UV_IGNORE },
        { .flags = UV_IGNORE },
        { .flags = UV_IGNORE },
    };
    uv_process_options_t opts = {
        .exit_cb = real_exited,
        .file = s->init_exe,
        .args = args.v,
        .env = env.v,
        .stdio_count = 3,
        .stdio = stdio,
    };
    uv_timer_init(s->loop, &in->timer);
    in->timer.data = in;
    in->proc.data = in;
    in->handles_init = true;
    int rc = uv_spawn(s->loop, &in->proc, &opts);
    if (rc < 0) {
        snprintf(errbuf, errsz, "cannot start the init of instance %s (%s): %s", spec->id,
                 s->init_exe, uv_strerror(rc));
        goto out;
    }
    ret = 0;
out:
    argvec_release(&args);
    argvec_release(&env);
    return ret;
}

static const struct sup_backend real_backend = {
    .boot = real_boot,
    .stop = real_stop,
    .kill = real_kill,
    .signal_all = real_signal_all,
    .pids = real_pids,
    .release = real_release,
    .kill_now = real_kill_now,
    .wait_gone = real_wait_gone,
};

/* ---- the fake backend ---- */

/*
 * Nothing runs: an instance is "alive" from boot until sup_fake_exit(), sup_stop() or
 * sup_kill(), which report the exit at once (synchronously, from inside the call).
 */
static int
fake_boot(struct sup *s, struct sup_inst *in, const struct sup_spec *spec, char *errbuf,
          size_t errsz)
{
    (void)s;
    (void)in;
    (void)spec;
    (void)errbuf;
    (void)errsz;
    return 0;
}

static int
fake_stop(struct sup_inst *in, int64_t grace_ms)
{
    (void)grace_ms;
    report_exit(in, 0);
    return 0;
}

static int
fake_kill(struct sup_inst *in)
{
    report_exit(in, 128 + SIGKILL);
    return 0;
}

static void
fake_signal_all(struct sup_inst *in, int sig)
{
    (void)in;
    (void)sig;
}

static size_t
fake_pids(struct sup_inst *in, int *pids, size_t max)
{
    (void)in;
    (void)pids;
    (void)max;
    return 0;
}

static void
fake_kill_now(struct sup_inst *in)
{
    (void)in;
}

static void
fake_wait_gone(struct sup_inst *in, uint64_t deadline_ns)
{
    (void)in;
    (void)deadline_ns;
}

static const struct sup_backend fake_backend = {
    .boot = fake_boot,
    .stop = fake_stop,
    .kill = fake_kill,
    .signal_all = fake_signal_all,
    .pids = fake_pids,
    .release = inst_free,
    .kill_now = fake_kill_now,
    .wait_gone = fake_wait_gone,
};

/* ---- the probe ---- */

/* rm -rf that also removes what overlayfs leaves unreadable (work/work is mode 000). */
static void
remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0700);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            struct buf child = BUF_INIT;
            buf_addf(&child, "%s/%s", path, de->d_name);
            remove_tree(child.data);
            buf_release(&child);
        }
        closedir(d);
    }
    rmdir(path);
}

/*
 * Whether instances can have namespaces here, tried for real: the init run with `--probe DIR`
 * enters them and mounts an overlay in a temporary directory. A few milliseconds, once per
 * server. false with the reason in `why`.
 */
static bool
probe_namespaces(const struct sup *s, struct buf *why)
{
    const char *tmp = getenv("TMPDIR");
    struct buf dir = BUF_INIT, disk = BUF_INIT, reason_path = BUF_INIT;
    bool ok = false;
    buf_addf(&dir, "%s/fogbank-probe-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(dir.data)) {
        buf_addf(why, "cannot create a directory for the probe: %s", strerror(errno));
        buf_release(&dir);
        return false;
    }
    buf_addf(&disk, "%s/disk", dir.data);
    buf_addf(&reason_path, "%s/reason", dir.data);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, reason_path.data,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    struct argvec argv = { 0 };
    init_argv_start(s, &argv);
    argvec_add(&argv, "--probe");
    argvec_add(&argv, disk.data);
    pid_t pid;
    int rc = posix_spawn(&pid, s->init_exe, &fa, NULL, argv.v, environ);
    posix_spawn_file_actions_destroy(&fa);
    argvec_release(&argv);
    if (rc != 0) {
        buf_addf(why, "cannot run %s: %s", s->init_exe, strerror(rc));
        goto out;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok) {
        char reason[512];
        if (read_small(reason_path.data, reason, sizeof(reason)) < 0 || !reason[0])
            snprintf(reason, sizeof(reason), "the probe exited with status %d", st);
        reason[strcspn(reason, "\n")] = '\0';
        buf_adds(why, reason);
    }
out:
    remove_tree(dir.data);
    buf_release(&dir);
    buf_release(&disk);
    buf_release(&reason_path);
    return ok;
}

/*
 * Whether namespaces can work here, without spawning: overlayfs must be known to the
 * kernel, and we must be root or allowed unprivileged user namespaces.
 */
static bool
namespaces_plausible(struct buf *why)
{
    char fs[8192];
    if (read_small("/proc/filesystems", fs, sizeof(fs)) < 0 || !strstr(fs, "\toverlay")) {
        buf_adds(why, "the kernel has no overlay filesystem");
        return false;
    }
    char userns[16];
    if (geteuid() != 0 &&
        read_small("/proc/sys/kernel/unprivileged_userns_clone", userns, sizeof(userns)) == 0 &&
        userns[0] == '0') {
        buf_adds(why, "unprivileged user namespaces are disabled");
        return false;
    }
    return true;
}

/* Settles a pending guess with the real probe, once, before the first boot. */
static void
settle_mode(struct sup *s)
{
    if (!s->probe_pending)
        return;
    s->probe_pending = false;
    struct buf why = BUF_INIT;
    s->namespaces = probe_namespaces(s, &why);
    if (!s->namespaces)
        log_info("instances: namespaces are unavailable here (%s): instances run as plain "
                 "process groups, and absolute paths they write land on this host",
                 why.data);
    buf_release(&why);
}

/* ---- the public API ---- */

static struct sup *
sup_alloc(const struct sup_backend *be, uv_loop_t *loop, sup_exit_fn *on_exit, void *arg)
{
    struct sup *s = xcalloc(1, sizeof(*s));
    s->be = be;
    s->loop = loop;
    s->on_exit = on_exit;
    s->arg = arg;
    return s;
}

char *
sup_find_init(const char *self_exe, enum sup_init_kind *kind)
{
    char *real = realpath(self_exe, NULL);
    if (real) {
        char *slash = strrchr(real, '/');
        struct buf path = BUF_INIT;
        struct stat st;
        buf_add(&path, real, (size_t)(slash - real));
        buf_adds(&path, "/" SUP_INIT_NAME);
        free(real);
        if (stat(path.data, &st) == 0 && S_ISREG(st.st_mode) && access(path.data, X_OK) == 0) {
            *kind = SUP_INIT_STANDALONE;
            return buf_detach(&path, NULL);
        }
        buf_release(&path);
    }
    *kind = SUP_INIT_SUBCOMMAND;
    return xstrdup(self_exe);
}

struct sup *
sup_new(uv_loop_t *loop, const char *init_exe, enum sup_init_kind kind, sup_exit_fn *on_exit,
        void *arg)
{
    if (!loop || !init_exe)
        die("sup_new: a loop and the path of the init executable are required");
    struct sup *s = sup_alloc(&real_backend, loop, on_exit, arg);
    s->init_exe = xstrdup(init_exe);
    s->init_kind = kind;
    /* FOGBANK_ISOLATION=process-group forces the fallback (tests of it, hosts where
     * namespaces misbehave); =namespaces skips the probe. */
    const char *force = getenv("FOGBANK_ISOLATION");
    struct buf why = BUF_INIT;
    if (force && strcmp(force, "process-group") == 0) {
        s->namespaces = false;
    } else if (force && strcmp(force, "namespaces") == 0) {
        s->namespaces = true;
    } else {
        if (force && *force)
            log_error("FOGBANK_ISOLATION=%s is neither 'namespaces' nor 'process-group'; "
                      "probing",
                      force);
        /*
         * The real probe spawns a process (30-60 ms), which the start-up budget cannot
         * afford: a cheap look now says at start when namespaces are plainly impossible,
         * and the first boot settles the rest.
         */
        s->namespaces = namespaces_plausible(&why);
        s->probe_pending = s->namespaces;
        if (!s->namespaces)
            log_info("instances: namespaces are unavailable here (%s): instances run as plain "
                     "process groups, and absolute paths they write land on this host",
                     why.data);
    }
    buf_release(&why);
    return s;
}

struct sup *
sup_new_fake(uv_loop_t *loop, sup_exit_fn *on_exit, void *arg)
{
    return sup_alloc(&fake_backend, loop, on_exit, arg);
}

void
sup_fake_exit(struct sup *s, const char *id, int status)
{
    struct sup_inst *in = table_find(s, id);
    if (in && s->be == &fake_backend)
        report_exit(in, status);
}

void
sup_set_exit_handler(struct sup *s, sup_exit_fn *on_exit, void *arg)
{
    s->on_exit = on_exit;
    s->arg = arg;
}

/*
 * Kills every tree and waits for the inits without running the loop (the owner drains it
 * afterwards, which runs the handles' close callbacks that free the entries). No exit
 * callback runs: the owner is shutting down.
 */
void
sup_free(struct sup *s)
{
    if (!s)
        return;
    uint64_t deadline = vclock_mono_ns() + (uint64_t)SUP_FREE_WAIT_MS * 1000 * 1000;
    for (size_t i = 0; i < s->n; i++)
        s->be->kill_now(s->insts[i]);
    for (size_t i = 0; i < s->n; i++) {
        s->be->wait_gone(s->insts[i], deadline);
        s->be->release(s->insts[i]);
    }
    free(s->insts);
    free(s->init_exe);
    free(s);
}

const char *
sup_mode(const struct sup *s)
{
    return s && s->namespaces ? "namespaces" : "process-group";
}

int
sup_boot(struct sup *s, const struct sup_spec *spec, char *errbuf, size_t errsz)
{
    if (!spec->id || !*spec->id || !spec->dir || !*spec->dir) {
        snprintf(errbuf, errsz, "an instance needs an id and a directory");
        return -1;
    }
    if (table_find(s, spec->id)) {
        snprintf(errbuf, errsz, "instance %s is already running", spec->id);
        return -1;
    }
    settle_mode(s);
    struct sup_inst *in = xcalloc(1, sizeof(*in));
    in->sup = s;
    in->id = xstrdup(spec->id);
    if (s->be->boot(s, in, spec, errbuf, errsz) < 0) {
        s->be->release(in);
        return -1;
    }
    table_add(s, in);
    return 0;
}

int
sup_stop(struct sup *s, const char *id, int64_t grace_ms)
{
    struct sup_inst *in = table_find(s, id);
    return in ? s->be->stop(in, grace_ms) : -1;
}

int
sup_kill(struct sup *s, const char *id)
{
    struct sup_inst *in = table_find(s, id);
    return in ? s->be->kill(in) : -1;
}

int
sup_hang(struct sup *s, const char *id)
{
    struct sup_inst *in = table_find(s, id);
    if (!in)
        return -1;
    s->be->signal_all(in, SIGSTOP);
    in->hung = true;
    return 0;
}

int
sup_unhang(struct sup *s, const char *id)
{
    struct sup_inst *in = table_find(s, id);
    if (!in)
        return -1;
    s->be->signal_all(in, SIGCONT);
    in->hung = false;
    return 0;
}

bool
sup_alive(const struct sup *s, const char *id)
{
    return table_find(s, id) != NULL;
}

bool
sup_hung(const struct sup *s, const char *id)
{
    struct sup_inst *in = table_find(s, id);
    return in && in->hung;
}

size_t
sup_pids(const struct sup *s, const char *id, int *pids, size_t max)
{
    struct sup_inst *in = table_find(s, id);
    return in ? s->be->pids(in, pids, max) : 0;
}
