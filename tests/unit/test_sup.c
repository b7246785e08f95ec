/*
 * The instance supervisor with real processes: user data writes land on the instance's own
 * disk, not the host; kill, stop (graceful and escalated), hang and sup_free leave no
 * process behind, double-forked daemons included; a second boot keeps the disk and runs no
 * user data; the process-group fallback; and the fake backend. This binary is also the
 * instance init (main() dispatches `__instance-init` as fogbank's does), so most tests have
 * the supervisor re-execute /proc/self/exe (SUP_INIT_SUBCOMMAND); one boots through the
 * standalone fogbank-init the build puts in $(O), and one checks how sup_find_init() picks
 * between the two. Every test runs its own loop and removes what it created.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "emulator/buf.h"
#include "emulator/instances/sup.h"
#include "emulator/log.h"

#define WAIT_MS 5000 /* upper bound of any wait below; a healthy run takes milliseconds */

/* The exits the supervisor reported. */
struct exits {
    int n;           /* how many */
    char id[64][32]; /* instance ids, in order */
    int status[64];  /* their statuses */
    struct sup *sup; /* set to reboot from the callback (fake test) */
    bool reboot;     /* boot the same id again from inside the callback */
    int reboot_rc;   /* what that sup_boot returned */
};

/* One test's world: a loop that ticks, a supervisor, a temporary directory. */
struct fx {
    uv_loop_t loop;
    uv_timer_t tick; /* keeps UV_RUN_ONCE from blocking longer than a few ms */
    struct sup *sup;
    char tmp[64];
    struct exits ex;
};

static void
on_exit_record(void *arg, const char *id, int status)
{
    struct exits *ex = arg;
    if (ex->n < 64) {
        snprintf(ex->id[ex->n], sizeof(ex->id[0]), "%s", id);
        ex->status[ex->n] = status;
    }
    ex->n++;
    if (ex->reboot) {
        char err[256];
        const char *no_layers[] = { NULL };
        struct sup_spec spec = { .id = id, .dir = "/nonexistent-fake", .layers = no_layers };
        ex->reboot_rc = sup_boot(ex->sup, &spec, err, sizeof(err));
    }
}

static void
tick(uv_timer_t *t)
{
    (void)t;
}

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* rm -rf, including the mode-000 directory overlayfs leaves in work/. */
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

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/fogbank-test-sup-XXXXXX");
    if (!mkdtemp(f->tmp) || uv_loop_init(&f->loop) != 0)
        return -1;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick, 5, 5);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    int ret = 0;
    sup_free(f->sup);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&f->loop) != 0) {
        fprintf(stderr, "test_sup: the loop still had handles at teardown\n");
        ret = -1;
    }
    remove_tree(f->tmp);
    unsetenv("FOGBANK_ISOLATION");
    free(f);
    return ret;
}

/* Runs the loop until pred(arg) or WAIT_MS; returns pred's last answer. */
static bool
run_until(struct fx *f, bool (*pred)(struct fx *f, const void *arg), const void *arg)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    while (!pred(f, arg)) {
        if (now_ms() > deadline)
            return false;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    return true;
}

static bool
exits_reached(struct fx *f, const void *arg)
{
    return f->ex.n >= *(const int *)arg;
}

static void
read_file(const char *path, struct buf *out)
{
    buf_reset(out);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_add(out, chunk, (size_t)n);
    close(fd);
}

static int
count_in(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* What console_has() looks for: `count` occurrences of `text` in <dir>/console.log. */
struct console_want {
    const char *dir;
    const char *text;
    int count;
};

static bool
console_has(struct fx *f, const void *arg)
{
    (void)f;
    const struct console_want *w = arg;
    struct buf path = BUF_INIT, text = BUF_INIT;
    buf_addf(&path, "%s/console.log", w->dir);
    read_file(path.data, &text);
    bool ok = count_in(text.data, w->text) >= w->count;
    buf_release(&path);
    buf_release(&text);
    return ok;
}

static void
write_script(const char *path, const char *body)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
}

/* A process as seen once: gone when /proc no longer shows it alive under the same start. */
struct proc_seen {
    int pid;
    char start[32]; /* field 22 of /proc/PID/stat */
};

static int
stat_fields(int pid, char *state, char *start, size_t startsz)
{
    char path[64];
    struct buf text = BUF_INIT;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    read_file(path, &text);
    char *p = strrchr(text.data, ')');
    int ret = -1;
    if (p) {
        /* state is field 3, start time field 22: skip 19 fields after the state. */
        char *save = NULL, *tok = strtok_r(p + 1, " ", &save);
        for (int field = 3; tok; field++, tok = strtok_r(NULL, " ", &save)) {
            if (field == 3)
                *state = tok[0];
            if (field == 22) {
                snprintf(start, startsz, "%s", tok);
                ret = 0;
                break;
            }
        }
    }
    buf_release(&text);
    return ret;
}

static bool
proc_gone(const struct proc_seen *p)
{
    char state, start[32];
    if (kill(p->pid, 0) < 0 || stat_fields(p->pid, &state, start, sizeof(start)) < 0)
        return true;
    /* A zombie is dead; the host's init may be slow or unwilling to reap it. */
    return state == 'Z' || strcmp(start, p->start) != 0;
}

static size_t
snapshot(struct sup *s, const char *id, struct proc_seen *out, size_t max)
{
    int pids[64];
    size_t n = sup_pids(s, id, pids, ARRAY_SIZE(pids));
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        char state;
        out[k].pid = pids[i];
        if (stat_fields(pids[i], &state, out[k].start, sizeof(out[k].start)) == 0)
            k++;
    }
    return k;
}

static bool
all_gone(const struct proc_seen *ps, size_t n, uint64_t within_ms)
{
    uint64_t deadline = now_ms() + within_ms;
    for (;;) {
        bool gone = true;
        for (size_t i = 0; i < n; i++)
            gone = gone && proc_gone(&ps[i]);
        if (gone)
            return true;
        if (now_ms() > deadline)
            return false;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

static bool
is_comm(int pid, const char *comm)
{
    char path[64];
    struct buf text = BUF_INIT;
    snprintf(path, sizeof(path), "/proc/%d/comm", pid);
    read_file(path, &text);
    bool match = str_starts(text.data, comm);
    buf_release(&text);
    return match;
}

static bool
has_comm(const struct proc_seen *ps, size_t n, const char *comm)
{
    for (size_t i = 0; i < n; i++)
        if (is_comm(ps[i].pid, comm))
            return true;
    return false;
}

/* What settled() waits for: the instance's tree is the two inits plus `sleeps` sleep
 * daemons and nothing else (the subshells that forked them have exited). */
struct settle {
    const char *id;
    size_t sleeps;
    struct proc_seen *ps; /* filled with the settled tree */
    size_t max;           /* capacity of ps */
    size_t n;             /* entries filled */
};

static bool
settled(struct fx *f, const void *arg)
{
    struct settle *st = (struct settle *)arg;
    st->n = snapshot(f->sup, st->id, st->ps, st->max);
    if (st->n != 2 + st->sleeps)
        return false;
    for (size_t i = 2; i < st->n; i++)
        if (!is_comm(st->ps[i].pid, "sleep"))
            return false;
    return true;
}

/* Whether every process of the snapshot is in state `want` ('T' stopped) or, with
 * negate, none is. */
struct state_want {
    const struct proc_seen *ps;
    size_t n;
    char state;
    bool negate;
};

static bool
states_are(struct fx *f, const void *arg)
{
    (void)f;
    const struct state_want *w = arg;
    for (size_t i = 0; i < w->n; i++) {
        char state, start[32];
        if (stat_fields(w->ps[i].pid, &state, start, sizeof(start)) < 0)
            return false; /* every process of a settled tree must still be there */
        if ((state == w->state) == w->negate)
            return false;
    }
    return true;
}

static struct sup *
new_sup(struct fx *f)
{
    f->sup = sup_new(&f->loop, "/proc/self/exe", SUP_INIT_SUBCOMMAND, on_exit_record, &f->ex);
    return f->sup;
}

static void
require_namespaces(struct fx *f)
{
    if (strcmp(sup_mode(new_sup(f)), "namespaces") != 0) {
        print_message("namespaces unavailable on this host; skipping\n");
        skip();
    }
}

static char *
tmp_path(struct fx *f, const char *name)
{
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s/%s", f->tmp, name);
    return buf_detach(&b, NULL);
}

static void
boot_layers(struct fx *f, const char *id, const char *dir, const char *const *layers,
            const char *boot_script, const char *user_data)
{
    char err[512] = "";
    const char *env[] = { "GREETING=hello from the instance", NULL };
    struct sup_spec spec = { .id = id,
                             .dir = dir,
                             .layers = layers,
                             .boot_script = boot_script,
                             .user_data = user_data,
                             .env = env };
    if (sup_boot(f->sup, &spec, err, sizeof(err)) < 0)
        fail_msg("sup_boot %s: %s", id, err);
}

static void
boot(struct fx *f, const char *id, const char *dir, const char *boot_script, const char *user_data)
{
    const char *no_layers[] = { NULL };
    boot_layers(f, id, dir, no_layers, boot_script, user_data);
}

/* Creates <f->tmp>/<rel> (parents included) holding `text`. */
static void
put_file(struct fx *f, const char *rel, const char *text)
{
    struct buf path = BUF_INIT;
    buf_addf(&path, "%s/%s", f->tmp, rel);
    for (char *p = path.data + strlen(f->tmp) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path.data, 0755);
        *p = '/';
    }
    write_script(path.data, text);
    buf_release(&path);
}

#define USER_DATA_WWW                                                                              \
    "#!/bin/sh\n"                                                                                  \
    "mkdir -p /var/www\n"                                                                          \
    "echo '<h1>fogbank</h1>' > /var/www/index.html\n"                                              \
    "echo \"user data says: $GREETING\"\n"                                                         \
    "(sleep 300 &) &\n"

/* ---- namespace mode ---- */

static void
test_user_data_writes_the_instance_disk_not_the_host(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    bool host_had_www = access("/var/www/index.html", F_OK) == 0;
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-1");
    write_script(ud, USER_DATA_WWW);
    boot(f, "i-1", dir, NULL, ud);
    assert_true(sup_alive(f->sup, "i-1"));
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct console_want said = { dir, "user data says: hello from the instance", 1 };
    assert_true(console_has(f, &said));

    struct buf path = BUF_INIT;
    buf_addf(&path, "%s/upper/var/www/index.html", dir);
    assert_int_equal(access(path.data, F_OK), 0);
    if (!host_had_www)
        assert_int_not_equal(access("/var/www/index.html", F_OK), 0);

    struct proc_seen ps[64];
    struct settle st = { .id = "i-1", .sleeps = 1, .ps = ps, .max = ARRAY_SIZE(ps) };
    assert_true(run_until(f, settled, &st));
    size_t n = st.n;
    assert_true(n >= 2);
    assert_true(has_comm(ps, n, "sleep")); /* the double-forked daemon is counted */

    assert_int_equal(sup_kill(f->sup, "i-1"), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    assert_string_equal(f->ex.id[0], "i-1");
    assert_int_equal(f->ex.status[0], 128 + SIGKILL);
    assert_false(sup_alive(f->sup, "i-1"));
    assert_true(all_gone(ps, n, 2000));
    buf_release(&path);
    free(ud);
    free(dir);
}

static void
test_stop_is_graceful_when_processes_obey_sigterm(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-2");
    write_script(ud, USER_DATA_WWW);
    boot(f, "i-2", dir, NULL, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct proc_seen ps[64];
    struct settle st = { .id = "i-2", .sleeps = 1, .ps = ps, .max = ARRAY_SIZE(ps) };
    assert_true(run_until(f, settled, &st));
    size_t n = st.n;

    uint64_t t0 = now_ms();
    assert_int_equal(sup_stop(f->sup, "i-2", 3000), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    assert_int_equal(f->ex.status[0], 0); /* PID 1 shut down cleanly */
    assert_true(now_ms() - t0 < 2000);
    assert_true(all_gone(ps, n, 2000));
    free(ud);
    free(dir);
}

static void
test_stop_escalates_to_sigkill_after_the_grace(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-3");
    /* A daemon that ignores SIGTERM (SIG_IGN survives exec). */
    write_script(ud, "#!/bin/sh\n(trap '' TERM; exec sleep 300) &\necho stubborn\n");
    boot(f, "i-3", dir, NULL, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct proc_seen ps[64];
    struct settle st = { .id = "i-3", .sleeps = 1, .ps = ps, .max = ARRAY_SIZE(ps) };
    assert_true(run_until(f, settled, &st));
    size_t n = st.n;
    assert_true(has_comm(ps, n, "sleep"));

    uint64_t t0 = now_ms();
    assert_int_equal(sup_stop(f->sup, "i-3", 200), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    uint64_t took = now_ms() - t0;
    assert_int_equal(f->ex.status[0], 128 + SIGKILL);
    assert_true(took >= 150); /* the grace was given */
    assert_true(took < 3000); /* and not PID 1's own, longer one */
    assert_true(all_gone(ps, n, 2000));
    free(ud);
    free(dir);
}

static void
test_hang_freezes_every_process_and_unhang_thaws_them(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-4");
    write_script(ud, USER_DATA_WWW);
    boot(f, "i-4", dir, NULL, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct proc_seen ps[64];
    struct settle st = { .id = "i-4", .sleeps = 1, .ps = ps, .max = ARRAY_SIZE(ps) };
    assert_true(run_until(f, settled, &st));
    size_t n = st.n;
    assert_true(n >= 3);

    assert_false(sup_hung(f->sup, "i-4"));
    assert_int_equal(sup_hang(f->sup, "i-4"), 0);
    assert_true(sup_hung(f->sup, "i-4"));
    struct state_want stopped = { ps, n, 'T', false };
    assert_true(run_until(f, states_are, &stopped));

    assert_int_equal(sup_unhang(f->sup, "i-4"), 0);
    assert_false(sup_hung(f->sup, "i-4"));
    struct state_want running = { ps, n, 'T', true };
    assert_true(run_until(f, states_are, &running));

    /* A hung instance can still be killed, and nothing it ran survives. */
    assert_int_equal(sup_hang(f->sup, "i-4"), 0);
    assert_true(run_until(f, states_are, &stopped));
    assert_int_equal(sup_kill(f->sup, "i-4"), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    assert_true(all_gone(ps, n, 2000));
    free(ud);
    free(dir);
}

static void
test_second_boot_keeps_the_disk_and_runs_no_user_data(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    char *ud = tmp_path(f, "user-data"), *bs = tmp_path(f, "boot-script");
    char *dir = tmp_path(f, "i-5");
    write_script(ud, USER_DATA_WWW);
    /* The AMI's boot script runs at every boot, inside the instance's root. */
    write_script(bs, "#!/bin/sh\necho \"boot script sees: $(cat /var/www/index.html 2>&1)\"\n");
    boot(f, "i-5", dir, bs, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    assert_int_equal(sup_stop(f->sup, "i-5", 1000), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));

    boot(f, "i-5", dir, bs, NULL);
    struct console_want done2 = { dir, "Cloud-init v. fogbank finished", 2 };
    assert_true(run_until(f, console_has, &done2));
    struct console_want seen = { dir, "boot script sees: <h1>fogbank</h1>", 1 };
    assert_true(console_has(f, &seen));
    struct console_want ran = { dir, "user data says:", 2 };
    assert_false(console_has(f, &ran)); /* once, at the first boot only */

    assert_int_equal(sup_kill(f->sup, "i-5"), 0);
    int two = 2;
    assert_true(run_until(f, exits_reached, &two));
    free(ud);
    free(bs);
    free(dir);
}

static void
test_ami_layers_stack_top_most_first_over_the_host(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    /* Layers on the host's root filesystem (as /tmp usually is): overlayfs would refuse them
     * beside "/" itself, which the init works around. */
    put_file(f, "top/opt/app/version", "top\n");
    put_file(f, "bottom/opt/app/version", "bottom\n");
    put_file(f, "bottom/opt/app/only-bottom", "from the bottom layer\n");
    char *top = tmp_path(f, "top"), *bottom = tmp_path(f, "bottom");
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-9");
    write_script(ud, "#!/bin/sh\necho \"version=$(cat /opt/app/version)\"\n"
                     "echo \"bottom=$(cat /opt/app/only-bottom)\"\n"
                     "test -x /bin/sh && echo host-root-visible\n"
                     "echo changed > /opt/app/version\n");
    const char *layers[] = { top, bottom, NULL };
    boot_layers(f, "i-9", dir, layers, NULL, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct console_want v = { dir, "version=top", 1 };
    struct console_want b = { dir, "bottom=from the bottom layer", 1 };
    struct console_want h = { dir, "host-root-visible", 1 };
    assert_true(console_has(f, &v));
    assert_true(console_has(f, &b));
    assert_true(console_has(f, &h));

    /* The write went to the instance's layer; the AMI layer is untouched. */
    struct buf text = BUF_INIT, path = BUF_INIT;
    buf_addf(&path, "%s/upper/opt/app/version", dir);
    read_file(path.data, &text);
    assert_string_equal(text.data, "changed\n");
    buf_reset(&path);
    buf_addf(&path, "%s/opt/app/version", top);
    read_file(path.data, &text);
    assert_string_equal(text.data, "top\n");

    assert_int_equal(sup_kill(f->sup, "i-9"), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    buf_release(&text);
    buf_release(&path);
    free(top);
    free(bottom);
    free(ud);
    free(dir);
}

static void
test_free_kills_every_instance(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    enum { N = 20 };
    char *ud = tmp_path(f, "user-data");
    write_script(ud, USER_DATA_WWW);
    char *dirs[N];
    char ids[N][32];
    for (int i = 0; i < N; i++) {
        struct buf d = BUF_INIT;
        snprintf(ids[i], sizeof(ids[i]), "i-many%02d", i);
        buf_addf(&d, "%s/%s", f->tmp, ids[i]);
        dirs[i] = buf_detach(&d, NULL);
        boot(f, ids[i], dirs[i], NULL, ud);
    }
    struct proc_seen ps[N * 8];
    size_t n = 0;
    for (int i = 0; i < N; i++) {
        struct console_want done = { dirs[i], "Cloud-init v. fogbank finished", 1 };
        assert_true(run_until(f, console_has, &done));
        struct settle st = { .id = ids[i], .sleeps = 1, .ps = ps + n, .max = 8 };
        assert_true(run_until(f, settled, &st));
        n += st.n;
    }
    assert_true(n >= 3 * N);
    sup_free(f->sup);
    f->sup = NULL;
    assert_int_equal(f->ex.n, 0); /* no exit callbacks while shutting down */
    assert_true(all_gone(ps, n, 2000));
    for (int i = 0; i < N; i++)
        free(dirs[i]);
    free(ud);
}

/* ---- process-group fallback ---- */

static void
test_process_group_fallback_runs_and_kills_the_group(void **state)
{
    struct fx *f = *state;
    setenv("FOGBANK_ISOLATION", "process-group", 1);
    new_sup(f);
    assert_string_equal(sup_mode(f->sup), "process-group");
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-6");
    /* Relative paths land in the instance directory (its cwd); a daemon that leaves the
     * group with setsid() must still die with the instance. */
    write_script(ud, "#!/bin/sh\necho marker > marker.txt\necho \"pg says: $GREETING\"\n"
                     "(sleep 300 &) &\nsetsid sleep 301 &\n");
    boot(f, "i-6", dir, NULL, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct console_want warned = { dir, "WARNING: instance i-6 runs without namespaces", 1 };
    assert_true(console_has(f, &warned));
    struct console_want said = { dir, "pg says: hello from the instance", 1 };
    assert_true(console_has(f, &said));
    struct buf marker = BUF_INIT;
    buf_addf(&marker, "%s/marker.txt", dir);
    assert_int_equal(access(marker.data, F_OK), 0);

    struct proc_seen ps[64];
    struct settle st = { .id = "i-6", .sleeps = 2, .ps = ps, .max = ARRAY_SIZE(ps) };
    assert_true(run_until(f, settled, &st)); /* init, leader, both daemons */
    size_t n = st.n;
    assert_true(has_comm(ps, n, "sleep"));

    assert_int_equal(sup_hang(f->sup, "i-6"), 0);
    struct state_want stopped = { ps, n, 'T', false };
    assert_true(run_until(f, states_are, &stopped));
    assert_int_equal(sup_unhang(f->sup, "i-6"), 0);

    assert_int_equal(sup_kill(f->sup, "i-6"), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    assert_int_equal(f->ex.status[0], 128 + SIGKILL);
    assert_true(all_gone(ps, n, 2000));
    buf_release(&marker);
    free(ud);
    free(dir);
}

static void
test_process_group_stop_is_graceful(void **state)
{
    struct fx *f = *state;
    setenv("FOGBANK_ISOLATION", "process-group", 1);
    new_sup(f);
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-7");
    write_script(ud, "#!/bin/sh\n(sleep 300 &) &\nsetsid sleep 301 &\n");
    boot(f, "i-7", dir, NULL, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct proc_seen ps[64];
    struct settle st = { .id = "i-7", .sleeps = 2, .ps = ps, .max = ARRAY_SIZE(ps) };
    assert_true(run_until(f, settled, &st));
    size_t n = st.n;
    assert_true(n >= 2);
    uint64_t t0 = now_ms();
    assert_int_equal(sup_stop(f->sup, "i-7", 3000), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    assert_int_equal(f->ex.status[0], 0);
    assert_true(now_ms() - t0 < 2000);
    assert_true(all_gone(ps, n, 2000));
    free(ud);
    free(dir);
}

/*
 * An AMI whose boot script fails never comes up: the tree ends with a failure status (not
 * the 0 of a clean shutdown) and the user data never runs, in both isolation modes, so EC2
 * sees a crashed instance (impaired) rather than one that shut itself down.
 */
static void
boot_failure_ends_the_tree(struct fx *f, const char *id)
{
    char *bs = tmp_path(f, "boot-script"), *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, id);
    write_script(bs, "#!/bin/sh\necho 'cannot mount root fs'\nexit 3\n");
    write_script(ud, "#!/bin/sh\necho user data ran\n");
    boot(f, id, dir, bs, ud);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    assert_string_equal(f->ex.id[0], id);
    assert_int_equal(f->ex.status[0], 1);
    struct console_want failed = { dir, "the boot script failed (status 3)", 1 };
    assert_true(console_has(f, &failed));
    struct console_want ran = { dir, "user data ran", 1 };
    assert_false(console_has(f, &ran));
    assert_false(sup_alive(f->sup, id));
    free(bs);
    free(ud);
    free(dir);
}

static void
test_failed_boot_script_ends_the_tree_with_a_failure(void **state)
{
    struct fx *f = *state;
    require_namespaces(f);
    boot_failure_ends_the_tree(f, "i-8");
}

static void
test_process_group_failed_boot_script_ends_the_tree(void **state)
{
    struct fx *f = *state;
    setenv("FOGBANK_ISOLATION", "process-group", 1);
    new_sup(f);
    boot_failure_ends_the_tree(f, "i-9");
}

/* ---- errors ---- */

static void
test_boot_rejects_missing_files_and_duplicate_ids(void **state)
{
    struct fx *f = *state;
    setenv("FOGBANK_ISOLATION", "process-group", 1); /* no probe needed */
    new_sup(f);
    char err[512] = "";
    char *dir = tmp_path(f, "i-8"), *ud = tmp_path(f, "user-data");
    const char *no_layers[] = { NULL };
    const char *bad_layers[] = { "/nonexistent/layer", NULL };
    struct sup_spec spec = { .id = "i-8", .dir = dir, .layers = no_layers };

    spec.user_data = "/nonexistent/user-data";
    assert_int_equal(sup_boot(f->sup, &spec, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/user-data"));
    spec.user_data = NULL;
    spec.layers = bad_layers;
    assert_int_equal(sup_boot(f->sup, &spec, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/layer"));
    spec.layers = no_layers;
    spec.id = "";
    assert_int_equal(sup_boot(f->sup, &spec, err, sizeof(err)), -1);
    assert_false(sup_alive(f->sup, "i-8"));

    write_script(ud, "#!/bin/sh\nsleep 300 &\n");
    spec.id = "i-8";
    spec.user_data = ud;
    assert_int_equal(sup_boot(f->sup, &spec, err, sizeof(err)), 0);
    assert_int_equal(sup_boot(f->sup, &spec, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "already running"));
    assert_int_equal(sup_stop(f->sup, "i-none", 0), -1);
    assert_int_equal(sup_kill(f->sup, "i-none"), -1);
    assert_int_equal(sup_hang(f->sup, "i-none"), -1);
    assert_int_equal(sup_pids(f->sup, "i-none", NULL, 0), 0);
    /* teardown's sup_free kills i-8 */
    free(dir);
    free(ud);
}

/* ---- the standalone init ---- */

/* Whether /proc/<pid>/maps names a file containing `needle`. */
static bool
maps_mention(int pid, const char *needle)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), fp))
        found = strstr(line, needle) != NULL;
    fclose(fp);
    return found;
}

static void
test_find_init_prefers_an_executable_fogbank_init_next_to_the_binary(void **state)
{
    struct fx *f = *state;
    enum sup_init_kind kind = SUP_INIT_STANDALONE;
    char *exe = tmp_path(f, "fogbank"), *init = tmp_path(f, SUP_INIT_NAME);
    char *real_tmp = realpath(f->tmp, NULL);
    assert_non_null(real_tmp);
    struct buf want = BUF_INIT;
    buf_addf(&want, "%s/%s", real_tmp, SUP_INIT_NAME);

    /* A self_exe that does not resolve, then one with nothing next to it: itself. */
    char *got = sup_find_init(exe, &kind);
    assert_int_equal(kind, SUP_INIT_SUBCOMMAND);
    assert_string_equal(got, exe);
    free(got);
    write_script(exe, "#!/bin/sh\n");
    got = sup_find_init(exe, &kind);
    assert_int_equal(kind, SUP_INIT_SUBCOMMAND);
    assert_string_equal(got, exe);
    free(got);
    /* A fogbank-init that is a directory, or not executable, does not count. */
    assert_int_equal(mkdir(init, 0755), 0);
    got = sup_find_init(exe, &kind);
    assert_int_equal(kind, SUP_INIT_SUBCOMMAND);
    free(got);
    assert_int_equal(rmdir(init), 0);
    write_script(init, "#!/bin/sh\n");
    assert_int_equal(chmod(init, 0644), 0);
    got = sup_find_init(exe, &kind);
    assert_int_equal(kind, SUP_INIT_SUBCOMMAND);
    free(got);
    /* An executable one is used, by its absolute path, also when self_exe is a symlink. */
    assert_int_equal(chmod(init, 0755), 0);
    got = sup_find_init(exe, &kind);
    assert_int_equal(kind, SUP_INIT_STANDALONE);
    assert_string_equal(got, want.data);
    free(got);
    char *link = tmp_path(f, "link-to-fogbank");
    assert_int_equal(symlink(exe, link), 0);
    got = sup_find_init(link, &kind);
    assert_int_equal(kind, SUP_INIT_STANDALONE);
    assert_string_equal(got, want.data);
    free(got);

    free(link);
    free(real_tmp);
    buf_release(&want);
    free(exe);
    free(init);
}

static void
test_standalone_init_boots_and_links_no_server_library(void **state)
{
    struct fx *f = *state;
    /* The build puts this binary in $(O)/tests and fogbank-init in $(O). */
    char *self = realpath("/proc/self/exe", NULL);
    assert_non_null(self);
    *strrchr(self, '/') = '\0';
    *strrchr(self, '/') = '\0';
    struct buf init = BUF_INIT;
    buf_addf(&init, "%s/%s", self, SUP_INIT_NAME);
    free(self);
    if (access(init.data, X_OK) != 0) {
        print_message("%s not built; skipping\n", init.data);
        buf_release(&init);
        skip();
    }
    f->sup = sup_new(&f->loop, init.data, SUP_INIT_STANDALONE, on_exit_record, &f->ex);
    char *ud = tmp_path(f, "user-data"), *dir = tmp_path(f, "i-s");
    write_script(ud, USER_DATA_WWW);
    boot(f, "i-s", dir, NULL, ud);
    struct console_want done = { dir, "Cloud-init v. fogbank finished", 1 };
    assert_true(run_until(f, console_has, &done));
    struct console_want said = { dir, "user data says: hello from the instance", 1 };
    assert_true(console_has(f, &said));

    int pids[16];
    assert_true(sup_pids(f->sup, "i-s", pids, ARRAY_SIZE(pids)) >= 1);
    char path[64], exe[4096];
    snprintf(path, sizeof(path), "/proc/%d/exe", pids[0]);
    ssize_t n = readlink(path, exe, sizeof(exe) - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    assert_string_equal(exe, init.data);
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pids[0]);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char argv0[64] = "";
    assert_true(fread(argv0, 1, sizeof(argv0) - 1, fp) > 0);
    fclose(fp);
    assert_string_equal(argv0, SUP_INIT_NAME); /* "fogbank-init\0--id\0..." */
    assert_false(maps_mention(pids[0], "libuv"));
    assert_false(maps_mention(pids[0], "libsqlite3"));
    assert_false(maps_mention(pids[0], "libmicrohttpd"));

    assert_int_equal(sup_stop(f->sup, "i-s", 3000), 0);
    int one = 1;
    assert_true(run_until(f, exits_reached, &one));
    assert_string_equal(f->ex.id[0], "i-s");
    assert_int_equal(f->ex.status[0], 0);
    buf_release(&init);
    free(ud);
    free(dir);
}

/* ---- the fake backend ---- */

static void
test_fake_backend_runs_nothing_and_reports_exits(void **state)
{
    (void)state;
    struct exits ex = { 0 };
    struct sup *s = sup_new_fake(NULL, on_exit_record, &ex);
    char err[256];
    const char *no_layers[] = { NULL };
    struct sup_spec spec = { .id = "i-f1", .dir = "/nonexistent-fake", .layers = no_layers };
    assert_int_equal(sup_boot(s, &spec, err, sizeof(err)), 0);
    assert_true(sup_alive(s, "i-f1"));
    assert_int_equal(sup_boot(s, &spec, err, sizeof(err)), -1);
    int pids[4];
    assert_int_equal(sup_pids(s, "i-f1", pids, 4), 0);
    assert_int_equal(sup_hang(s, "i-f1"), 0);
    assert_true(sup_hung(s, "i-f1"));
    assert_int_equal(sup_unhang(s, "i-f1"), 0);
    assert_false(sup_hung(s, "i-f1"));

    sup_fake_exit(s, "i-f1", 3);
    assert_int_equal(ex.n, 1);
    assert_string_equal(ex.id[0], "i-f1");
    assert_int_equal(ex.status[0], 3);
    assert_false(sup_alive(s, "i-f1"));
    sup_fake_exit(s, "i-f1", 3); /* not running: nothing happens */
    assert_int_equal(ex.n, 1);

    assert_int_equal(sup_boot(s, &spec, err, sizeof(err)), 0);
    assert_int_equal(sup_stop(s, "i-f1", 1000), 0);
    assert_int_equal(ex.n, 2); /* synchronously */
    assert_int_equal(ex.status[1], 0);
    assert_int_equal(sup_boot(s, &spec, err, sizeof(err)), 0);
    assert_int_equal(sup_kill(s, "i-f1"), 0);
    assert_int_equal(ex.status[2], 128 + SIGKILL);

    /* The exit callback may boot the same id again. */
    assert_int_equal(sup_boot(s, &spec, err, sizeof(err)), 0);
    ex.sup = s;
    ex.reboot = true;
    sup_fake_exit(s, "i-f1", 0);
    ex.reboot = false;
    assert_int_equal(ex.reboot_rc, 0);
    assert_true(sup_alive(s, "i-f1"));

    /* No fixed limit on instances. */
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof(id), "i-%04d", i);
        spec.id = id;
        assert_int_equal(sup_boot(s, &spec, err, sizeof(err)), 0);
    }
    assert_true(sup_alive(s, "i-0000"));
    assert_true(sup_alive(s, "i-0999"));
    assert_int_equal(sup_kill(s, "i-0500"), 0);
    assert_false(sup_alive(s, "i-0500"));
    assert_true(sup_alive(s, "i-0999"));
    int before = ex.n;
    sup_free(s); /* no callbacks at free */
    assert_int_equal(ex.n, before);
}

int
main(int argc, char **argv)
{
    /* The supervisor re-executes this binary as the instance init. */
    if (argc > 1 && strcmp(argv[1], "__instance-init") == 0)
        return sup_init_main(argc - 1, argv + 1);
    log_set_quiet(true);
    unsetenv("FOGBANK_ISOLATION");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_data_writes_the_instance_disk_not_the_host, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_is_graceful_when_processes_obey_sigterm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_escalates_to_sigkill_after_the_grace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hang_freezes_every_process_and_unhang_thaws_them,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_boot_keeps_the_disk_and_runs_no_user_data,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ami_layers_stack_top_most_first_over_the_host, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_free_kills_every_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_group_fallback_runs_and_kills_the_group, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_process_group_stop_is_graceful, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_boot_script_ends_the_tree_with_a_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_process_group_failed_boot_script_ends_the_tree, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_boot_rejects_missing_files_and_duplicate_ids, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
                test_find_init_prefers_an_executable_fogbank_init_next_to_the_binary, setup,
                teardown),
        cmocka_unit_test_setup_teardown(test_standalone_init_boots_and_links_no_server_library,
                                        setup, teardown),
        cmocka_unit_test(test_fake_backend_runs_nothing_and_reports_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
