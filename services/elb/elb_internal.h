/*
 * What the files of the ELB service share with each other (not with other services): the
 * look-ups and errors every handler needs, the health verdict and its state machine, the
 * health-check rounds and probes, and the data plane (listeners, routing, proxy). SQL lives
 * in state/elb.c.
 */
#ifndef FB_SERVICES_ELB_INTERNAL_H
#define FB_SERVICES_ELB_INTERNAL_H

#include "emulator/common.h"
#include "emulator/aws_err.h"
#include "emulator/service.h"
#include "state/elb.h"

#include <cjson/cJSON.h>

struct app;

/* ---- shared look-ups (elb.c) ---- */

/* The load balancer `name` of the call's region: 0, or -1 + LoadBalancerNotFound ("There is
   no ACTIVE Load Balancer named 'x'", as AWS words it) / InternalError. */
int elb_lb_load(struct aws_call *call, const char *name, struct elb_lb_row *out,
                struct aws_err *err);
/* InternalError for a state-database failure (state/ has logged it); returns -1. */
int elb_db_failed(struct aws_err *err);
/* A member string of obj or NULL. */
const char *elb_str(const cJSON *obj, const char *name);
/* A call context for work no API call started (timers, probe results, the data plane). */
void elb_internal_call(struct app *app, const char *region, struct aws_call *call);

/* ---- health (instances.c) ---- */

/* The three texts of DescribeInstanceHealth for one instance, and whether it takes traffic. */
struct elb_verdict {
    const char *state;       /* "InService" | "OutOfService" | "Unknown" */
    const char *reason;      /* "ELB" | "Instance" | "N/A" */
    const char *description; /* AWS's wording (AWS-NOTES 4.2) */
    bool routable;           /* new requests may go to it */
};

/*
 * The verdict on a row of lb (its registration, draining, checks so far, the instance's EC2
 * state and zone). `verdict` is filled; -1 only on a database failure.
 */
int elb_verdict_of(struct aws_call *call, const struct elb_lb_row *lb,
                   const struct elb_instance_row *row, struct elb_verdict *out);

/*
 * One health-check result applied to the row (AWS's thresholds: InService after `healthy`
 * consecutive passes, OutOfService after `unhealthy` consecutive failures).
 */
void elb_health_apply(struct elb_instance_row *row, bool ok, int healthy, int unhealthy);

/*
 * Registers one instance with lb (already registered: nothing, 0). The instance must exist
 * and be pending or running: else InvalidInstance. -1 + err.
 */
int elb_register_one(struct aws_call *call, const struct elb_lb_row *lb, const char *id,
                     struct aws_err *err);
/*
 * Deregisters one instance (not registered: 0, *drain_ms 0): with draining enabled it stays
 * as "deregistration in progress" for the draining timeout (*drain_ms), else it goes at once.
 * -1 only on a database failure (err set).
 */
int elb_deregister_one(struct aws_call *call, const struct elb_lb_row *lb, const char *id,
                       int64_t *drain_ms, struct aws_err *err);

/* The parts of a HealthCheck Target "HTTP:80/path": 0, or -1 when it is not valid. */
struct elb_target {
    char protocol[8]; /* HTTP | HTTPS | TCP | SSL */
    int port;         /* 1-65535 */
    char path[1040];  /* "/path" for HTTP(S), "" otherwise */
};
int elb_target_parse(const char *target, struct elb_target *out);

/* (Re)starts the health-check rounds of a load balancer: the next one `interval` s from now. */
void elb_health_arm(struct app *app, const char *region, const char *name, int interval_s);
/* Schedules the end of a draining deregistration (the row is settled then). */
void elb_drain_arm(struct app *app, const char *region, const char *name, const char *id,
                   int64_t delay_ms);
/* Arms the rounds of every load balancer (start-up), and forgets them all (reset/stop). */
void elb_health_start(struct app *app);
void elb_health_stop(struct app *app);

/* ---- probes (probe.c): the network exchange of one health check ---- */

struct elb_probe {
    struct app *app;          /* the running fogbank */
    char region[32];          /* the load balancer's region */
    char lb_name[40];         /* the load balancer */
    char instance_id[32];     /* the instance probed */
    struct elb_target target; /* what to ask */
    int host_port;            /* loopback port of target.port on the instance */
    int64_t timeout_ms;       /* the health check's Timeout, virtual ms */
    uint64_t vtimer;          /* the virtual timeout timer, 0 once fired */
    bool virtual_expired;     /* the virtual Timeout has passed */
    bool real_expired;        /* the real grace (probe.c) has passed, or there is none */
    void *net;                /* the prober's own state, NULL when none is running */
    struct elb_probe *next;   /* the in-flight list */
};

/*
 * The prober: how a probe's exchange is carried out. The real one (probe.c) connects on the
 * loop; tests install a fake. start() returns 0 (elb_probe_result follows later, or at once),
 * or -1 when the exchange could not even start (a failed check). cancel() stops a running
 * exchange without reporting.
 */
struct elb_prober {
    int (*start)(struct elb_probe *p);
    void (*cancel)(struct elb_probe *p);
};
extern const struct elb_prober elb_real_prober;
/* Installs a prober (NULL: the real one). For tests. */
void elb_set_prober(const struct elb_prober *prober);
/* The prober's verdict on a running probe: applies it (its own transaction) and frees p. */
void elb_probe_result(struct elb_probe *p, bool ok);
/* The real grace of a probe has passed (probe.c); fails it when the virtual one has too. */
void elb_probe_real_expired(struct elb_probe *p);

/* ---- routing (proxy.c) ---- */

struct elb_backend {
    char id[32];       /* i-... */
    char az[32];       /* its zone */
    bool routable;     /* InService and not draining: new requests may go to it */
    bool draining;     /* deregistered, in-flight requests may finish */
    int *host_ports;   /* per listener index of the pool: the host port of its InstancePort */
    bool failing;      /* the health-fail fault is on it, as of the state at fault_at */
    uint64_t fault_at; /* db_changes() when failing was read; re-read once the state moves */
};

/* The routing table of one load balancer, rebuilt from the state after each change. */
struct elb_pool {
    char region[32];          /* of the load balancer */
    char name[40];            /* the load balancer */
    bool cross_zone;          /* CrossZoneLoadBalancing */
    int idle_timeout_s;       /* ConnectionSettings.IdleTimeout */
    int64_t drain_timeout_ms; /* ConnectionDraining.Timeout when enabled, else 0 */
    int *listener_ports;      /* LoadBalancerPort of each listener index */
    size_t n_listeners;       /* entries of listener_ports and of each backend's host_ports */
    struct elb_backend *b;    /* the instances registered (or draining) */
    size_t n;                 /* entries of b */
    size_t rr;                /* round-robin cursor over routable backends (cross-zone) */
    size_t zone_rr;           /* round-robin cursor over zones (cross-zone off) */
    size_t zone_cursor[8];    /* per zone index (of the zones seen), cursor within it */
};

/*
 * The next backend for a new request or connection: round-robin over routable backends;
 * with cross-zone off, over the zones that have one first, then within the zone. The index
 * into pool->b, or -1 when none is routable.
 */
int elb_pool_pick(struct elb_pool *pool);

/* Marks the routing and listeners stale: rebuilt on the next loop pass (now, without one). */
void elb_dataplane_dirty(struct app *app);
/* Rebuilds the routing and binds/closes listeners from the state (its own transaction). */
void elb_dataplane_sync(struct app *app);
/*
 * Pins listener `lb_port` of load balancer `name` (the call's region) to loopback port
 * `host_port`: with a loop the port is bound at once and the listener's old socket closed
 * (connections it accepted go on); the row records it, and a restart binds it again. Bad
 * input changes nothing: -1 + ValidationError (port outside 1-65535, held by another
 * listener, or not bindable: in use, privileged) or ListenerNotFound. Call it last in a
 * handler, once nothing else can fail, as a rollback does not unbind.
 */
int elb_dataplane_pin(struct aws_call *call, const char *name, int lb_port, int host_port,
                      struct aws_err *err);
/* Closes every listener and connection (reset, stop). */
void elb_dataplane_stop(struct app *app);
/* The pool of a load balancer as last synced, or NULL. For tests and the proxy. */
struct elb_pool *elb_dataplane_pool(const char *region, const char *name);

#endif
