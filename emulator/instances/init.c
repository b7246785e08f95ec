/*
 * `fogbank-init` (or `fogbank __instance-init`): the first process of an instance, spawned by
 * sup.c. It opens the
 * console log, puts the instance in its own mount and PID namespaces with its disk mounted
 * and chrooted into (or, where that is impossible, in a plain process group on the host),
 * runs the boot script and the user data, and reaps until told to stop. It runs in its own
 * single-threaded process, never inside the server: nothing here touches the loop, the
 * database or AWS behaviour. It is also the standalone executable fogbank-init (with
 * init_main.c), so it may use only what links with libc alone: common.c, buf.c, clock_real.c.
 *
 * Process layout, namespace mode:
 *   outer init (host PID ns, our own mount ns)  forwards SIGTERM, exits with PID 1's status
 *     `- PID 1 (new PID ns, chrooted into <dir>/root)  runs the scripts, reaps, shuts down
 *          `- boot script, user data, their daemons ...
 * Process-group mode:
 *   outer init (child subreaper)  forwards SIGTERM to the group, escalates, reaps everything
 *     `- leader (setsid: its pid names the group)  runs the scripts from <dir>
 *          `- boot script, user data, their daemons ...
 */
#include "../common.h"
#include "sup.h"

#include "../buf.h"
#include "../clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#endif

/* How long PID 1 (or the process-group init) waits after SIGTERM before SIGKILLing the rest;
 * the supervisor escalates on its own timer anyway, this only bounds an orphaned stop. */
#define INIT_SHUTDOWN_GRACE_S 5

/* Where the scripts are put on the instance's own disk (namespace mode), as cloud-init
 * keeps them: /var/lib/cloud/instance/scripts/part-001 is the path its logs name. The boot
 * script goes to /run, which is a fresh tmpfs at every boot. */
#define INIT_USER_DATA_RAW    "/var/lib/cloud/instance/user-data.txt"
#define INIT_USER_DATA_SCRIPT "/var/lib/cloud/instance/scripts/part-001"
#define INIT_BOOT_SCRIPT      "/run/fogbank/boot-script"

/* The command line, as sup.c builds it. */
struct init_opts {
    const char *id;          /* instance id (console lines) */
    const char *dir;         /* the instance's directory */
    const char **layers;     /* AMI layer directories, top-most first */
    size_t nlayers;          /* entries in layers */
    const char *boot_script; /* host path or NULL */
    const char *user_data;   /* host path or NULL */
    long ppid;               /* the supervisor's pid: we must die with it; 0 = unchecked */
    bool force_group;        /* --isolation process-group */
    const char *probe_dir;   /* --probe DIR: only test whether namespaces work, in DIR */
};

/* Set by the handlers, read with the signals blocked (see wait_mask). */
static volatile sig_atomic_t got_term;  /* SIGTERM: shut the instance down */
static volatile sig_atomic_t got_alarm; /* SIGALRM: the shutdown grace is over */
static uint64_t started_ns;             /* monotonic start, for "Up N seconds" */
static sigset_t wait_mask;              /* the mask to sleep in: our signals unblocked */

static void
on_signal(int sig)
{
    if (sig == SIGTERM)
        got_term = 1;
    else if (sig == SIGALRM)
        got_alarm = 1;
    /* SIGCHLD only needs to wake sigsuspend(). */
}

/*
 * Handlers for SIGTERM, SIGALRM and SIGCHLD, all three blocked except inside sigsuspend():
 * checking a flag and then sleeping can then never miss the signal that set it. SIGCHLD
 * needs a handler, not SIG_DFL, or it would not wake sigsuspend().
 */
static void
signals_setup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGALRM);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGALRM);
    sigdelset(&wait_mask, SIGCHLD);
}

/* ---- the console ---- */

static void con_printf(const char *fmt, ...) FB_PRINTF(1, 2);

/* Appends to the console (stdout is the console log once console_open() ran). */
static void
con_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdprintf(STDOUT_FILENO, fmt, ap);
    va_end(ap);
}

/* "Thu, 28 Nov 2024 10:00:00 +0000", the date format of cloud-init's console lines. */
static void
cloud_init_date(char *out, size_t n)
{
    time_t t = (time_t)(vclock_wall_ms() / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, n, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
        out[0] = '\0';
}

static double
uptime_s(void)
{
    return (double)(vclock_mono_ns() - started_ns) / 1e9;
}

/* Opens <dir>/console.log for append onto stdout and stderr; what we exec inherits both. */
static int
console_open(const char *dir)
{
    struct buf path = BUF_INIT;
    buf_addf(&path, "%s/console.log", dir);
    int fd = open(path.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    buf_release(&path);
    if (fd < 0)
        return -1;
    if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* ---- small file helpers ---- */

static int
mkdir_in(const char *dir, const char *name)
{
    struct buf path = BUF_INIT;
    buf_addf(&path, "%s/%s", dir, name);
    int ret = mkdir(path.data, 0755) < 0 && errno != EEXIST ? -1 : 0;
    buf_release(&path);
    return ret;
}

/* Reads a whole file into out; -1 with errno set. */
static int
read_whole(const char *path, struct buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        buf_add(out, chunk, (size_t)n);
    }
    close(fd);
    return 0;
}

/* Writes data to path (created or truncated, with mode); -1 with errno set. */
static int
write_whole(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fchmod(fd, mode) < 0 || close(fd) < 0)
        return -1;
    return 0;
}

/* ---- running scripts ---- */

/*
 * Starts a script with the console as stdout/stderr: directly when it starts with "#!",
 * else through /bin/sh (what the brief of user data allows). Returns the pid or -1.
 */
static pid_t
script_start(const char *path, bool shebang)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The child: undo what only the init wants, then exec at once. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGALRM, &dfl, NULL);
    sigaction(SIGCHLD, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (shebang) {
        char *const argv[] = { (char *)path, NULL };
        execve(path, argv, environ);
    } else {
        char *const argv[] = { "/bin/sh", (char *)path, NULL };
        execve("/bin/sh", argv, environ);
    }
    dprintf(STDERR_FILENO, "fogbank-init: cannot run %s: %s\n", path, strerror(errno));
    _exit(126);
}

static int
status_code(int st)
{
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/*
 * Reaps every child that has exited (orphans included: we are PID 1, or the group leader
 * whose own children these are) until `want` has; 0 with its status then. With want == 0 it
 * never returns 0. Returns -1 as soon as SIGTERM arrived: the caller shuts down.
 */
static int
reap_until(pid_t want, int *status)
{
    for (;;) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            if (want && pid == want) {
                *status = status_code(st);
                return 0;
            }
        }
        if (got_term)
            return -1;
        sigsuspend(&wait_mask);
    }
}

/* A script to run at this boot, read on the host before the chroot. */
struct script {
    const char *label;     /* "boot script" or "user data" (console lines) */
    const char *host_path; /* where the supervisor said it is */
    const char *run_path;  /* where it runs from: the instance's copy, or host_path */
    struct buf body;       /* its bytes (namespace mode) */
    bool present;          /* given and readable */
};

static bool
script_has_shebang(const char *path)
{
    char head[2] = { 0, 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, head, 2);
    close(fd);
    return n == 2 && head[0] == '#' && head[1] == '!';
}

/* Runs one script and waits for it: its exit status (0 when absent or when it cannot start),
   -1 when SIGTERM arrived meanwhile. */
static int
script_run(const struct script *sc)
{
    if (!sc->present)
        return 0;
    pid_t pid = script_start(sc->run_path, script_has_shebang(sc->run_path));
    if (pid < 0) {
        con_printf("fogbank-init: cannot start the %s: %s\n", sc->label, strerror(errno));
        return 0;
    }
    int status = 0;
    if (reap_until(pid, &status) < 0)
        return -1;
    if (status != 0)
        con_printf("util.py[WARNING]: Failed running %s [%d]\n", sc->run_path, status);
    return status;
}

/*
 * The boot sequence, in the instance's root: the AMI's boot script, then cloud-init's final
 * stage with the user data, as the console of a real instance shows it. -1 when SIGTERM
 * arrived meanwhile; 1 when the boot script failed. The boot script is the AMI's own start-up
 * (its OS coming up): when it fails the instance never becomes reachable, so the caller ends
 * the tree with a failure status and EC2 reports the instance impaired, as AWS's instance
 * status check does for an AMI that cannot boot. A failing user data script is only a
 * warning on the console, as with cloud-init.
 */
static int
boot_sequence(const struct script *boot, const struct script *user)
{
    char when[64];
    int rc = script_run(boot);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        con_printf("fogbank-init: the boot script failed (status %d): the instance did not "
                   "come up\n",
                   rc);
        return 1;
    }
    cloud_init_date(when, sizeof(when));
    con_printf("Cloud-init v. fogbank running 'modules:final' at %s. Up %.2f seconds.\n", when,
               uptime_s());
    if (script_run(user) < 0)
        return -1;
    cloud_init_date(when, sizeof(when));
    con_printf("Cloud-init v. fogbank finished at %s. Datasource DataSourceEc2Local.  Up %.2f "
               "seconds\n",
               when, uptime_s());
    return 0;
}

/* ---- namespaces ---- */

#if defined(__linux__)

/* One write to an existing /proc file (no O_TRUNC, no chmod: proc refuses both). */
static int
write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Appends s with the backslash escapes overlayfs reads in its option string. */
static void
add_overlay_path(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == ':' || *s == ',')
            buf_addc(b, '\\');
        buf_addc(b, *s);
    }
}

/* mount(2) of an overlay with a NUL-terminated option string; keeps errno. In a user
 * namespace overlayfs may only use user.* xattrs: `userxattr`, which kernels older than
 * 5.11 lack and do without. */
static int
overlay_mount_opts(const char *target, struct buf *opts, bool userns)
{
    size_t plain_len = opts->len;
    if (userns)
        buf_adds(opts, ",userxattr");
    int rc = mount("overlay", target, "overlay", 0, opts->data);
    if (rc < 0 && userns && errno == EINVAL) {
        opts->data[plain_len] = '\0';
        opts->len = plain_len;
        rc = mount("overlay", target, "overlay", 0, opts->data);
    }
    return rc;
}

/* The instance's disk at root: <layers> (escaped, each followed by ':') over `bottom`, with
 * <dir>/upper as the writable layer. */
static int
overlay_mount(const char *root, const char *layers_opt, const char *bottom, const char *dir,
              bool userns)
{
    struct buf opts = BUF_INIT;
    buf_adds(&opts, "lowerdir=");
    buf_adds(&opts, layers_opt);
    add_overlay_path(&opts, bottom);
    buf_adds(&opts, ",upperdir=");
    add_overlay_path(&opts, dir);
    buf_adds(&opts, "/upper,workdir=");
    add_overlay_path(&opts, dir);
    buf_adds(&opts, "/work");
    int rc = overlay_mount_opts(root, &opts, userns);
    int e = errno;
    buf_release(&opts);
    errno = e;
    return rc;
}

/*
 * A read-only overlay of the host's root filesystem over an empty directory, at
 * <root>/host on a tmpfs mounted at root (which the instance's disk then covers: overlayfs
 * keeps its own references to its layers). Its path goes to `out`.
 */
static int
host_root_overlay(const char *root, struct buf *out, bool userns)
{
    struct buf empty = BUF_INIT, opts = BUF_INIT;
    int rc = mount("tmpfs", root, "tmpfs", 0, "mode=0755");
    if (rc == 0) {
        buf_addf(&empty, "%s/empty", root);
        buf_addf(out, "%s/host", root);
        mkdir(empty.data, 0755);
        mkdir(out->data, 0755);
        buf_adds(&opts, "lowerdir=");
        add_overlay_path(&opts, empty.data);
        buf_adds(&opts, ":/");
        rc = overlay_mount_opts(out->data, &opts, userns);
    }
    int e = errno;
    buf_release(&empty);
    buf_release(&opts);
    errno = e;
    return rc;
}

static int
why_errno(struct buf *why, const char *what)
{
    buf_addf(why, "%s: %s", what, strerror(errno));
    return -1;
}

/*
 * Puts the calling (outer) init into a new mount namespace with the instance's disk at
 * <dir>/root, and makes its next child PID 1 of a new PID namespace. -1 with the reason in
 * `why` when this host does not allow it; what succeeded before then is harmless to the
 * process-group fallback (a private copy of the host's mounts, or a user namespace mapping
 * us to ourselves).
 *
 * A user namespace only when we are not root: it is what lets an ordinary user mount, and
 * for root it would add nothing but failure modes — a 0 -> 0 mapping isolates no more than
 * no mapping (the instance's root is the host's root either way: this sandbox keeps paths
 * apart, it is not a security boundary), while overlayfs and sysfs are more restricted
 * inside one.
 */
static int
ns_enter(const char *dir, const char *const *layers, size_t nlayers, struct buf *why)
{
    bool userns = geteuid() != 0;
    if (userns) {
        char map[64];
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER) < 0)
            return why_errno(why, "unshare(CLONE_NEWUSER)");
        /* setgroups must be denied before an unprivileged process may write gid_map. */
        if (write_str("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
            return why_errno(why, "writing /proc/self/setgroups");
        snprintf(map, sizeof(map), "0 %lu 1", (unsigned long)uid);
        if (write_str("/proc/self/uid_map", map) < 0)
            return why_errno(why, "writing /proc/self/uid_map");
        snprintf(map, sizeof(map), "0 %lu 1", (unsigned long)gid);
        if (write_str("/proc/self/gid_map", map) < 0)
            return why_errno(why, "writing /proc/self/gid_map");
    }
    if (unshare(CLONE_NEWNS) < 0)
        return why_errno(why, "unshare(CLONE_NEWNS)");
    /* Our mounts must not propagate back to the host, nor the host's into the instance. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return why_errno(why, "making / private");

    struct buf root = BUF_INIT, layers_opt = BUF_INIT, host = BUF_INIT, sub = BUF_INIT;
    int ret = -1;
    buf_addf(&root, "%s/root", dir);
    for (size_t i = 0; i < nlayers; i++) {
        add_overlay_path(&layers_opt, layers[i]);
        buf_addc(&layers_opt, ':');
    }
    /* The host's root filesystem is the bottom layer (its submounts such as /proc are not
     * part of it). overlayfs refuses a lower layer inside another one ("overlapping lowerdir
     * path", ELOOP), and every AMI layer kept on the root filesystem is inside "/": then the
     * host's root goes in through an overlay of its own, a filesystem distinct from it. */
    int rc = overlay_mount(root.data, layers_opt.data, "/", dir, userns);
    if (rc < 0 && errno == ELOOP && nlayers > 0) {
        rc = host_root_overlay(root.data, &host, userns);
        if (rc == 0)
            rc = overlay_mount(root.data, layers_opt.data, host.data, dir, userns);
    }
    if (rc < 0) {
        why_errno(why, "mounting the overlay disk");
        /* Seen on 6.x: "failed to clone lowerpath" in dmesg, as every submount of / is
         * locked in a user namespace. */
        if (userns && errno == EINVAL)
            buf_adds(why, " (in a user namespace, which non-root needs, the kernel will not "
                          "take the host's / as a layer)");
        goto out;
    }
    buf_addf(&sub, "%s/dev", root.data);
    mkdir(sub.data, 0755);
    if (mount("/dev", sub.data, NULL, MS_BIND | MS_REC, NULL) < 0) {
        why_errno(why, "binding /dev");
        goto out;
    }
    buf_reset(&sub);
    buf_addf(&sub, "%s/sys", root.data);
    mkdir(sub.data, 0755);
    /* Read-only where the kernel lets us: an instance has no business changing the host's
     * sysfs. A /sys we cannot bind at all costs the instance little. */
    if (mount("/sys", sub.data, NULL, MS_BIND | MS_REC, NULL) == 0)
        mount(NULL, sub.data, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
    if (unshare(CLONE_NEWPID) < 0) {
        why_errno(why, "unshare(CLONE_NEWPID)");
        goto out;
    }
    ret = 0;
out:
    buf_release(&root);
    buf_release(&layers_opt);
    buf_release(&host);
    buf_release(&sub);
    return ret;
}

#else

static int
ns_enter(const char *dir, const char *const *layers, size_t nlayers, struct buf *why)
{
    (void)dir;
    (void)layers;
    (void)nlayers;
    buf_adds(why, "namespaces are Linux-only");
    return -1;
}

#endif

/* Dies with the parent: the supervisor for the outer init, the outer init for PID 1. */
static void
die_with_parent(void)
{
#if defined(__linux__)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

/*
 * In a freshly forked child: whether the parent is already gone (it died before
 * die_with_parent() took effect). `alive_fd` is the read end of a pipe whose write end only
 * the parent holds: EOF means it died. Works across PID namespaces, unlike getppid().
 */
static bool
parent_gone(int alive_fd)
{
    struct pollfd p = { .fd = alive_fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

/* ---- PID 1 (namespace mode) ---- */

/* Loads a script given on the host, so it can be written into the instance after chroot. */
static void
script_load(struct script *sc, const char *label, const char *host_path, const char *run_path)
{
    sc->label = label;
    sc->host_path = host_path;
    sc->run_path = run_path;
    buf_init(&sc->body);
    sc->present = false;
    if (!host_path)
        return;
    if (read_whole(host_path, &sc->body) < 0) {
        con_printf("fogbank-init: cannot read the %s %s: %s\n", label, host_path, strerror(errno));
        return;
    }
    sc->present = true;
}

/* Writes a loaded script to its place on the instance's disk (we are chrooted). */
static void
script_install(struct script *sc, const char *const *dirs, size_t ndirs)
{
    if (!sc->present)
        return;
    for (size_t i = 0; i < ndirs; i++)
        mkdir(dirs[i], 0755);
    if (write_whole(sc->run_path, sc->body.data, sc->body.len, 0700) < 0) {
        con_printf("fogbank-init: cannot write the %s to %s: %s\n", sc->label, sc->run_path,
                   strerror(errno));
        sc->present = false;
    }
}

/* SIGTERM everything in the namespace, SIGKILL what is left after the grace, then exit. */
static FB_NORETURN void
pid1_shutdown(void)
{
    bool killed = false;
    kill(-1, SIGTERM);
    alarm(INIT_SHUTDOWN_GRACE_S);
    for (;;) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
            ;
        if (pid < 0 && errno == ECHILD)
            _exit(0);
        if (got_alarm && !killed) {
            kill(-1, SIGKILL);
            killed = true;
        }
        sigsuspend(&wait_mask);
    }
}

static FB_NORETURN void
pid1_main(const struct init_opts *o, int alive_fd)
{
    die_with_parent();
    if (parent_gone(alive_fd))
        _exit(1);
    close(alive_fd);

    struct buf root = BUF_INIT, path = BUF_INIT;
    buf_addf(&root, "%s/root", o->dir);
#if defined(__linux__)
    /* A proc of our own namespace: ps and /proc/self inside see the instance only. */
    buf_addf(&path, "%s/proc", root.data);
    mkdir(path.data, 0555);
    if (mount("proc", path.data, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        con_printf("fogbank-init: cannot mount /proc in the instance: %s\n", strerror(errno));
    /* Without a network or UTS namespace, `sysctl -w` in user data would retune the host's
     * kernel: the instance gets those files read-only (its write fails on its console). */
    static const char *const host_knobs[] = { "/proc/sys", "/proc/sysrq-trigger" };
    for (size_t i = 0; i < ARRAY_SIZE(host_knobs); i++) {
        buf_reset(&path);
        buf_addf(&path, "%s%s", root.data, host_knobs[i]);
        if (mount(path.data, path.data, NULL, MS_BIND | MS_REC, NULL) == 0)
            mount(NULL, path.data, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
    }
    /* /run is a fresh tmpfs on every boot of a real machine. */
    buf_reset(&path);
    buf_addf(&path, "%s/run", root.data);
    mkdir(path.data, 0755);
    mount("tmpfs", path.data, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
#endif
    struct script boot, user;
    script_load(&boot, "boot script", o->boot_script, INIT_BOOT_SCRIPT);
    script_load(&user, "user data", o->user_data, INIT_USER_DATA_SCRIPT);
    if (chroot(root.data) < 0 || chdir("/") < 0) {
        con_printf("fogbank-init: cannot enter the instance's disk %s: %s\n", root.data,
                   strerror(errno));
        _exit(1);
    }
    buf_release(&root);
    buf_release(&path);

    static const char *const boot_dirs[] = { "/run", "/run/fogbank" };
    static const char *const user_dirs[] = { "/var", "/var/lib", "/var/lib/cloud",
                                             "/var/lib/cloud/instance",
                                             "/var/lib/cloud/instance/scripts" };
    script_install(&boot, boot_dirs, ARRAY_SIZE(boot_dirs));
    script_install(&user, user_dirs, ARRAY_SIZE(user_dirs));
    if (user.present)
        write_whole(INIT_USER_DATA_RAW, user.body.data, user.body.len, 0600);
    buf_release(&boot.body);
    buf_release(&user.body);

    int rc = boot_sequence(&boot, &user);
    if (rc == 0) {
        int unused;
        reap_until(0, &unused);
    }
    if (rc > 0) {
        /* A failed boot: PID 1 exits with a failure (the kernel kills the rest of the
           namespace), not with the 0 of a clean shutdown. */
        _exit(1);
    }
    pid1_shutdown();
}

/* Waits for PID 1, forwarding SIGTERM; returns its status as ours. */
static int
outer_ns(const struct init_opts *o)
{
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) < 0) {
        con_printf("fogbank-init: pipe: %s\n", strerror(errno));
        return 1;
    }
    pid_t pid1 = fork();
    if (pid1 < 0) {
        con_printf("fogbank-init: cannot start PID 1 of the instance: %s\n", strerror(errno));
        return 1;
    }
    if (pid1 == 0) {
        close(alive[1]);
        pid1_main(o, alive[0]);
    }
    close(alive[0]);
    for (;;) {
        int st;
        if (got_term) {
            got_term = 0;
            kill(pid1, SIGTERM);
        }
        pid_t pid = waitpid(pid1, &st, WNOHANG);
        if (pid == pid1)
            return status_code(st);
        if (pid < 0 && errno != EINTR)
            return 1;
        sigsuspend(&wait_mask);
    }
}

/* ---- process-group mode ---- */

/*
 * Signals every direct child of ours. As a child subreaper we inherit the orphans of the
 * instance, daemons that left the process group with setsid() included, so this reaches
 * them too.
 */
static void
signal_children(int sig)
{
#if defined(__linux__)
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks)
        return;
    struct dirent *de;
    while ((de = readdir(tasks))) {
        if (de->d_name[0] == '.')
            continue;
        struct buf path = BUF_INIT, list = BUF_INIT;
        buf_addf(&path, "/proc/self/task/%s/children", de->d_name);
        if (read_whole(path.data, &list) == 0) {
            char *p = list.data, *end;
            for (long pid; (pid = strtol(p, &end, 10)) > 0; p = end)
                kill((pid_t)pid, sig);
        }
        buf_release(&path);
        buf_release(&list);
    }
    closedir(tasks);
#endif
}

static FB_NORETURN void
leader_main(const struct init_opts *o, int alive_fd)
{
    die_with_parent();
    if (parent_gone(alive_fd))
        _exit(1);
    close(alive_fd);
    /* A group of our own, which the outer init and the supervisor signal as a whole. */
    setsid();
    if (chdir(o->dir) < 0)
        _exit(1);
    struct script boot = { .label = "boot script",
                           .host_path = o->boot_script,
                           .run_path = o->boot_script,
                           .body = BUF_INIT,
                           .present = o->boot_script != NULL };
    struct script user = { .label = "user data",
                           .host_path = o->user_data,
                           .run_path = o->user_data,
                           .body = BUF_INIT,
                           .present = o->user_data != NULL };
    int rc = boot_sequence(&boot, &user);
    if (rc == 0) {
        int unused;
        reap_until(0, &unused);
    }
    /* SIGTERM: the outer init has signalled the whole group and is waiting for it. A failed
       boot exits 1: the outer init kills the group and reports the failure. */
    _exit(rc > 0 ? 1 : 0);
}

/*
 * The outer init of process-group mode: runs the leader, and on SIGTERM signals its group,
 * escalating to SIGKILL after the grace; when the leader dies the rest of the instance is
 * killed, as the kernel does for a PID namespace. Exits once every descendant is reaped.
 */
static int
outer_group(const struct init_opts *o)
{
#if defined(__linux__)
    prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) < 0) {
        con_printf("fogbank-init: pipe: %s\n", strerror(errno));
        return 1;
    }
    pid_t leader = fork();
    if (leader < 0) {
        con_printf("fogbank-init: cannot start the instance: %s\n", strerror(errno));
        return 1;
    }
    if (leader == 0) {
        close(alive[1]);
        leader_main(o, alive[0]);
    }
    close(alive[0]);
    bool leader_done = false, term_sent = false, killing = false;
    int leader_status = 0;
    for (;;) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            if (pid == leader) {
                leader_done = true;
                leader_status = status_code(st);
                if (!term_sent)
                    killing = true;
            }
        }
        if (pid < 0 && errno == ECHILD && leader_done)
            return term_sent ? 0 : leader_status;
        if (got_term && !term_sent) {
            term_sent = true;
            kill(-leader, SIGTERM);
            signal_children(SIGTERM);
            alarm(INIT_SHUTDOWN_GRACE_S);
        }
        if (got_alarm)
            killing = true;
        if (killing) {
            kill(-leader, SIGKILL);
            signal_children(SIGKILL);
        }
        sigsuspend(&wait_mask);
    }
}

/* ---- entry ---- */

/* Parses `--name value` pairs; -1 on anything unexpected. */
static int
opts_parse(struct init_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->layers = xcalloc((size_t)argc, sizeof(*o->layers));
    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val)
            return -1;
        if (strcmp(name, "--id") == 0)
            o->id = val;
        else if (strcmp(name, "--dir") == 0)
            o->dir = val;
        else if (strcmp(name, "--layer") == 0)
            o->layers[o->nlayers++] = val;
        else if (strcmp(name, "--boot-script") == 0)
            o->boot_script = val;
        else if (strcmp(name, "--user-data") == 0)
            o->user_data = val;
        else if (strcmp(name, "--ppid") == 0)
            o->ppid = strtol(val, NULL, 10);
        else if (strcmp(name, "--isolation") == 0)
            o->force_group = strcmp(val, "process-group") == 0;
        else if (strcmp(name, "--probe") == 0)
            o->probe_dir = val;
        else
            return -1;
    }
    if (o->probe_dir)
        return 0;
    return o->id && o->dir ? 0 : -1;
}

static int
dirs_create(const char *dir)
{
    static const char *const subdirs[] = { "upper", "work", "root" };
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++)
        if (mkdir_in(dir, subdirs[i]) < 0)
            return -1;
    return 0;
}

/*
 * `--probe DIR`: whether this host lets an instance have namespaces, tried for real in DIR
 * (which the supervisor removes). Exit 0 if so, else 1 with the reason on stdout.
 */
static int
probe(const char *dir)
{
    struct buf why = BUF_INIT;
    const char *no_layers[] = { NULL };
    if (dirs_create(dir) < 0) {
        printf("cannot create the probe's directories in %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (ns_enter(dir, no_layers, 0, &why) < 0) {
        printf("%s\n", why.data);
        buf_release(&why);
        return 1;
    }
    buf_release(&why);
    /* _exit, not return: see sup_init_main(). */
    pid_t pid = fork();
    if (pid < 0) {
        dprintf(STDOUT_FILENO, "fork into the new PID namespace: %s\n", strerror(errno));
        _exit(1);
    }
    if (pid == 0)
        _exit(0);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    _exit(0);
}

int
sup_init_main(int argc, char **argv)
{
    struct init_opts o;
    started_ns = vclock_mono_ns();
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: fogbank-init --id ID --dir DIR [--layer DIR]... [--boot-script FILE]\n"
               "         [--user-data FILE] [--ppid PID] [--isolation namespaces|process-group]\n"
               "       fogbank-init --probe DIR\n"
               "The first process of an instance, spawned by fogbank's instance supervisor;\n"
               "not a command for people.\n");
        return 0;
    }
    if (opts_parse(&o, argc, argv) < 0) {
        fprintf(stderr, "fogbank-init: internal command of the instance supervisor; "
                        "bad arguments\n");
        free(o.layers);
        return 2;
    }
    if (o.probe_dir) {
        free(o.layers);
        return probe(o.probe_dir);
    }
    die_with_parent();
    if (o.ppid && getppid() != (pid_t)o.ppid)
        return 1; /* the supervisor died before we could tie ourselves to it */
    /* Out of the server's session: a Ctrl-C at its terminal is the server's to handle. */
    setsid();
    if (dirs_create(o.dir) < 0 || console_open(o.dir) < 0) {
        free(o.layers);
        return 1;
    }
    signals_setup();

    struct buf why = BUF_INIT;
    bool namespaces = false;
    if (o.force_group)
        buf_adds(&why, "FOGBANK_ISOLATION=process-group");
    else
        namespaces = ns_enter(o.dir, o.layers, o.nlayers, &why) == 0;
    int ret;
    if (namespaces) {
        con_printf("fogbank-init: instance %s: own mount and PID namespaces; disk %s/upper over "
                   "%zu AMI layer(s) over the host's /\n",
                   o.id, o.dir, o.nlayers);
        ret = outer_ns(&o);
        /* Exit handlers must not run once we have unshared the PID namespace: the kernel
         * refuses new threads to such a process, and LeakSanitizer's exit-time check needs
         * one (it aborts the process in SANITIZE=1 builds). Everything is on the console. */
        _exit(ret);
    } else {
        con_printf("fogbank-init: WARNING: instance %s runs without namespaces (%s): a plain "
                   "process group on the host, in %s; absolute paths its scripts write "
                   "(/var/www, /etc, ...) land on the HOST's filesystem, and its AMI layers "
                   "are not mounted\n",
                   o.id, why.data, o.dir);
        ret = outer_group(&o);
    }
    buf_release(&why);
    free(o.layers);
    return ret;
}
