/*
 * The instance supervisor: owns the process tree of every running instance. An instance
 * boots as `fogbank-init` (a small executable next to the fogbank binary, built from init.c
 * and linking only libc: exec'ing the server's binary would cost every instance ~10 ms of
 * dynamic loading), or, where that file is missing, as `fogbank __instance-init` (the
 * server's binary re-executed). Either way the init on Linux enters
 * its own mount and PID namespaces (and a user namespace when not run as root), mounts the
 * instance's disk (an overlay of the instance's writable layer over its AMI layers over the
 * host's root) and chroots into it, then runs the AMI boot script and, on first boot only,
 * the user data, with every byte they print appended to the console log. As PID 1 of its
 * namespace it reaps orphans; when it dies the kernel kills every process of the
 * namespace, daemons included. Where namespaces are unavailable the init runs in a plain
 * process group instead (sup_mode() says which).
 *
 * The supervisor runs on the loop thread: it spawns with uv_spawn, learns of exits from
 * libuv's SIGCHLD handling and reports them through one callback. It knows nothing of EC2
 * states, AWS or SQL: the EC2 service decides what an exit means. It is the only module
 * that forks or execs.
 */
#ifndef FB_SUP_H
#define FB_SUP_H

#include "../common.h"

#include <uv.h>

struct sup;

/* How to boot one instance. Every pointer is borrowed for the duration of sup_boot(). */
struct sup_spec {
    const char *id;  /* instance id, e.g. "i-0123456789abcdef0" (logs, process title) */
    const char *dir; /* the instance's own directory (created if missing); the supervisor keeps
                        upper/ (its writable layer), work/, root/ (the mount point) and
                        console.log in it */
    const char *const *layers; /* AMI layer directories, top-most first, NULL-terminated;
                                  may be empty ({ NULL }) */
    const char *boot_script;   /* path (on the host) of the AMI's boot script, or NULL */
    const char *user_data;     /* path (on the host) of the user data file to run at this
                                  boot, or NULL; the caller passes it on first boot only */
    const char *const *env;    /* extra environment "KEY=VALUE", NULL-terminated; PATH and
                                  HOME are provided if absent */
};

/*
 * Called on the loop thread when an instance's init process exits for any reason (stopped,
 * killed, crashed). `status` is the exit status, or 128 + signal number.
 */
typedef void sup_exit_fn(void *arg, const char *id, int status);

/* What the executable an instance's init runs as is, which decides its command line. */
enum sup_init_kind {
    SUP_INIT_STANDALONE, /* fogbank-init: spawned as `fogbank-init --id ...` */
    SUP_INIT_SUBCOMMAND, /* a binary whose main() dispatches `__instance-init` to
                            sup_init_main() (fogbank itself, a test): spawned as
                            `fogbank __instance-init --id ...` */
};

/* The file name of the standalone init, which the build puts next to the fogbank binary. */
#define SUP_INIT_NAME "fogbank-init"

/*
 * Which init the server should spawn: SUP_INIT_NAME in the directory of realpath(self_exe) if
 * that file is an executable regular file (*kind = SUP_INIT_STANDALONE, the absolute path is
 * returned), else self_exe itself (*kind = SUP_INIT_SUBCOMMAND). Returns an owned string.
 */
char *sup_find_init(const char *self_exe, enum sup_init_kind *kind);

/*
 * A supervisor spawning every init (and the one-time namespace probe) as `init_exe`, whose
 * command line `kind` says; normally what sup_find_init("/proc/self/exe") returned. Runs on
 * `loop`. on_exit may be NULL.
 */
struct sup *sup_new(uv_loop_t *loop, const char *init_exe, enum sup_init_kind kind,
                    sup_exit_fn *on_exit, void *arg);
/*
 * A supervisor with a fake backend for unit tests (the vtable seam of STYLE rule 7): boots
 * record the spec and "run" without any process; sup_fake_exit() makes an instance's init
 * exit with `status` (the exit callback runs). sup_stop() and sup_kill() report the exit at
 * once, from inside the call (status 0, and 128 + SIGKILL). loop may be NULL.
 */
struct sup *sup_new_fake(uv_loop_t *loop, sup_exit_fn *on_exit, void *arg);
void sup_fake_exit(struct sup *s, const char *id, int status);
/* Replaces the exit callback (the EC2 service installs its own at start). */
void sup_set_exit_handler(struct sup *s, sup_exit_fn *on_exit, void *arg);
/*
 * Kills every instance tree (SIGKILL), waits for them, and frees. No exit callback runs. The
 * owner runs the loop afterwards until the handles are closed: their close callbacks free
 * the last per-instance memory. Accepts NULL.
 */
void sup_free(struct sup *s);

/* "namespaces" or "process-group": how instances are isolated on this host. */
const char *sup_mode(const struct sup *s);

/* Boots an instance; -1 with a message in errbuf if it could not be started. */
int sup_boot(struct sup *s, const struct sup_spec *spec, char *errbuf, size_t errsz);
/*
 * Sends SIGTERM to the tree, escalating to SIGKILL after grace_ms of real time. The exit is
 * reported later, on the loop: status 0 when the instance shut down within the grace,
 * 128 + SIGKILL when it had to be killed.
 */
int sup_stop(struct sup *s, const char *id, int64_t grace_ms);
/* SIGKILLs the whole tree now (a host failure). */
int sup_kill(struct sup *s, const char *id);
/* Freezes (SIGSTOP) / thaws (SIGCONT) every process of the tree. */
int sup_hang(struct sup *s, const char *id);
int sup_unhang(struct sup *s, const char *id);
/* Whether the instance's init is alive, and whether it is frozen. */
bool sup_alive(const struct sup *s, const char *id);
bool sup_hung(const struct sup *s, const char *id);
/* Fills up to max host PIDs of the instance's processes (init first); returns the count. */
size_t sup_pids(const struct sup *s, const char *id, int *pids, size_t max);

/*
 * Entry point of the init: main() of fogbank-init (init_main.c) calls it with its own argc
 * and argv, fogbank's main() with those after `__instance-init` (argv[0] is the command's
 * name either way; the options follow). Sets up the namespaces and the disk, runs boot script
 * and user data, reaps, and never returns to the server's code. Returns the process exit
 * status.
 */
int sup_init_main(int argc, char **argv);

#endif
