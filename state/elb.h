/*
 * The typed store of the Classic Load Balancer: load balancers, listeners and registered
 * instances. Rows go in and out as plain structs; nothing here knows the AWS wire shapes or
 * the errors AWS answers (services/elb/ does).
 *
 * Conventions: every function returns -1 on a database failure (already logged); look-ups
 * return 1 when found (out filled), 0 when not. "list" functions hand back a malloc'd array
 * (free() it) in creation order, so callers may run other statements while walking it.
 */
#ifndef FB_STATE_ELB_H
#define FB_STATE_ELB_H

#include "../emulator/common.h"

struct db;

struct elb_lb_row {
    char region[32];            /* us-east-1 */
    char name[40];              /* LoadBalancerName, 1-32 chars */
    char dns_name[160];         /* my-lb-1234567890.us-east-1.elb.amazonaws.com */
    char scheme[24];            /* "internet-facing" | "internal" */
    char vpc_id[32];            /* vpc-..., "" in EC2-Classic style (zones given) */
    char zones[512];            /* JSON array of AZ names */
    char subnets[1024];         /* JSON array of subnet ids */
    char security_groups[1024]; /* JSON array of sg ids */
    char hc_target[1040];       /* "TCP:80", "HTTP:80/health" */
    int hc_interval;            /* seconds, 5-300 */
    int hc_timeout;             /* seconds, 2-60, < interval */
    int hc_unhealthy;           /* UnhealthyThreshold, 2-10 */
    int hc_healthy;             /* HealthyThreshold, 2-10 */
    bool cross_zone;            /* CrossZoneLoadBalancing.Enabled */
    bool drain_enabled;         /* ConnectionDraining.Enabled */
    int drain_timeout;          /* ConnectionDraining.Timeout, seconds */
    int idle_timeout;           /* ConnectionSettings.IdleTimeout, seconds */
    char access_log[1024];      /* JSON AccessLog object */
    char additional[2048];      /* JSON AdditionalAttributes array */
    char tags[8192];            /* JSON [{Key, Value}] */
    int64_t created_ms;         /* virtual time of creation */
};

int elb_store_lb_put(struct db *db, const struct elb_lb_row *row);
int elb_store_lb_get(struct db *db, const char *region, const char *name, struct elb_lb_row *out);
/* The load balancer whose DNS name is dns_name (case-insensitive), in any region. */
int elb_store_lb_get_by_dns(struct db *db, const char *dns_name, struct elb_lb_row *out);
/* Every load balancer of region (NULL: of every region), by region then creation. */
int elb_store_lb_list(struct db *db, const char *region, struct elb_lb_row **out, size_t *n);
int elb_store_lb_count(struct db *db, const char *region);
/* Deletes the load balancer with its listeners and instances. */
int elb_store_lb_delete(struct db *db, const char *region, const char *name);

struct elb_listener_row {
    char region[32];           /* of the load balancer */
    char lb_name[40];          /* the load balancer */
    int lb_port;               /* LoadBalancerPort */
    char protocol[8];          /* HTTP | HTTPS | TCP | SSL */
    char instance_protocol[8]; /* InstanceProtocol */
    int instance_port;         /* InstancePort */
    char ssl_cert[2048];       /* SSLCertificateId, "" when none */
    int host_port;             /* loopback port accepting for it, 0 while unbound */
};

int elb_store_listener_put(struct db *db, const struct elb_listener_row *row);
int elb_store_listener_delete(struct db *db, const char *region, const char *lb_name, int lb_port);
/* The listeners of one load balancer by port (lb_name NULL: every listener of every load
   balancer in every region). */
int elb_store_listener_list(struct db *db, const char *region, const char *lb_name,
                            struct elb_listener_row **out, size_t *n);
int elb_store_listener_set_host_port(struct db *db, const char *region, const char *lb_name,
                                     int lb_port, int host_port);

struct elb_instance_row {
    char region[32];        /* of the load balancer */
    char lb_name[40];       /* the load balancer */
    char instance_id[32];   /* i-... */
    bool registered;        /* false once deregistered (kept so Describe can name it) */
    int64_t drain_until_ms; /* > 0: deregistered, draining until then (virtual ms) */
    bool in_service;        /* the health verdict */
    int ok_streak;          /* consecutive passed checks */
    int fail_streak;        /* consecutive failed checks */
    int checks;             /* checks since registration */
    int64_t registered_ms;  /* virtual time of the registration */
};

int elb_store_instance_put(struct db *db, const struct elb_instance_row *row);
int elb_store_instance_get(struct db *db, const char *region, const char *lb_name,
                           const char *instance_id, struct elb_instance_row *out);
/* The instances known to one load balancer (registered or not), in registration order. */
int elb_store_instance_list(struct db *db, const char *region, const char *lb_name,
                            struct elb_instance_row **out, size_t *n);
/* How many instances are registered with the load balancer. */
int elb_store_instance_count(struct db *db, const char *region, const char *lb_name);

#endif
