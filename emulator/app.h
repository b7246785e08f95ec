/*
 * struct app: the running fogbank, everything the loop thread owns (state, clock, ids, the
 * configuration of `fogbank serve`). Handlers reach it through struct aws_call.
 */
#ifndef FB_APP_H
#define FB_APP_H

#include "common.h"

#include <uv.h>

struct db;
struct events;
struct ids;
struct sup;
struct vclock;

#define FB_VERSION "0.1.0"

struct app_config {
    const char *listen;     /* address to bind, default "127.0.0.1" */
    int port;               /* TCP port, default 4566; 0 picks a free one */
    const char *state_path; /* SQLite file or ":memory:" */
    double time_scale;      /* virtual seconds per real second, default 1 */
    uint64_t seed;          /* 0: random */
    const char *account_id; /* default "123456789012" */
    size_t max_body;        /* largest request body accepted, bytes */
    int instance_limit;     /* running EC2 instances per region (InstanceLimitExceeded past
                               it); 0 means the default, 64 */
    int dns_port;           /* Route53's DNS server port (UDP and TCP, loopback), default
                               4553; 0 picks a free one */
};

struct app {
    struct app_config cfg;    /* as given on the command line */
    uv_loop_t *loop;          /* the one loop; NULL in unit tests */
    struct db *db;            /* state */
    struct vclock *clock;     /* virtual time */
    struct ids *ids;          /* id generator */
    struct sup *sup;          /* instance process trees; NULL in unit tests without one */
    struct events *events;    /* the event stream (events.h); NULL in unit tests without one */
    int http_port;            /* the port the server listens on (cfg.port may be 0), set once
                                 listening; 0 before (services read it lazily) */
    int dns_port;             /* the port Route53's DNS server listens on (cfg.dns_port may be
                                 0), set by its start hook; 0 when it does not listen */
    char *data_dir;           /* instance disks and image layers: beside the state file, or
                                 a temporary directory removed at exit for :memory: */
    uint64_t started_mono_ns; /* for uptime */
};

#endif
