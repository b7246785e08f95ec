/*
 * What the files of services/route53/ share and nobody else sees: DNS name helpers, ids,
 * changes, the errors several handlers answer, and the runtime beside the rows (the DNS
 * server's cache, the health checks' probes).
 */
#ifndef FB_SERVICES_ROUTE53_INTERNAL_H
#define FB_SERVICES_ROUTE53_INTERNAL_H

#include "services/route53/route53.h"
#include "emulator/buf.h"

struct app;

/* How long a change stays PENDING, in virtual ms. AWS says "generally within 60 seconds"
   (API reference, GetChange); a few seconds keep waiters and tests quick. */
#define R53_INSYNC_DELAY_MS 3000

/* The DNS server's default port (`fogbank serve --dns-port`). */
#define R53_DNS_DEFAULT_PORT 4553

/*
 * Canonical form of a DNS name given to the API: lower case, \DDD escapes decoded, a
 * trailing dot. -1 (out left empty) when it is not a valid name: an empty label, a label
 * over 63 octets, over 255 octets in all, or a bad escape.
 */
int r53_name_canon(const char *in, struct buf *out);
/* The name as the API answers it: \DDD octal escapes for every octet outside [a-z0-9-_.]
   (AWS lists the wildcard as \052). */
void r53_name_escape(const char *canon, struct buf *out);
/* The sort key of a canonical name: its labels reversed, joined by \x01. */
void r53_name_sort_key(const char *canon, struct buf *out);
/* True when canonical `name` is `zone` or below it. */
bool r53_name_in_zone(const char *name, const char *zone);

/* A new AWS-style id: prefix + upper-case letters and digits, 21 characters in all. */
void r53_new_id(struct app *app, const char *prefix, char *out, size_t outsz);
/* The bare id of "/hostedzone/Z1" or "Z1" (botocore strips the prefix; raw callers may not). */
const char *r53_bare_id(const char *id);

/* Records a new change submitted now and fills a ChangeInfo object in `info`. -1 + err. */
int r53_change_new(struct aws_call *call, const char *comment, cJSON *info, struct aws_err *err);

/*
 * MaxItems of a list call (a string in Route53's model): dflt when absent, at most dflt;
 * -1 + InvalidInput when it is not a positive number.
 */
int r53_max_items(const cJSON *in, int dflt, struct aws_err *err);
/* Sets out.MaxItems (a string) to max. */
void r53_add_max_items(cJSON *out, int max);

/* NoSuchHostedZone for id; returns -1. */
int r53_err_no_zone(struct aws_err *err, const char *id);
/* InternalError after a state failure; returns -1. */
int r53_err_db(struct aws_err *err);

/* ---- records.c ---- */

/* Writes the default SOA and NS sets of a new zone. -1 on failure (logged). */
int r53_records_create_defaults(struct aws_call *call, const char *zone_id, const char *zone_name,
                                const char *name_servers);

/* ---- health.c ---- */

/* The verdict the DNS answers use for health check `id`: true unless probes found it down
   (an unknown id counts as healthy). */
bool r53_health_ok(const char *id);
/* Starts (or restarts) the probes of every health check in the state. */
void r53_health_start_all(struct app *app);
/* Stops every probe and timer. */
void r53_health_stop_all(struct app *app);
/*
 * Applies one probe result to health check id as a probe answering would (the seam unit
 * tests use, which run no sockets): FailureThreshold results the other way flip the
 * verdict. -1 when the check is unknown.
 */
int r53_health_report(struct app *app, const char *id, bool ok, const char *reason);

/* ---- dns.c: the DNS server ---- */

/*
 * Opens the UDP and TCP sockets on 127.0.0.1:port (0 picks a free port) on app->loop;
 * *bound receives the port. -1 with a message in errbuf.
 */
int r53_dns_start(struct app *app, int port, int *bound, char *errbuf, size_t errsz);
/* Closes the sockets and drops the cache. Accepts a server never started. */
void r53_dns_stop(void);
/* How long a DNS TCP connection may stay idle before it is closed, in real ms (0: the
   default, 10 s); for tests. */
void r53_dns_set_tcp_idle_ms(uint64_t ms);
/* The zones changed: the next query rebuilds the image of the zones from the state. */
void r53_dns_invalidate(void);
/*
 * The record sets at canonical `name` of zone `zone_id` changed (the call's transaction
 * wrote them): the next query reads that name again from the state, and only that name
 * unless a full rebuild is due anyway. Copies its arguments.
 */
void r53_dns_invalidate_name(const char *zone_id, const char *name);
/*
 * The answer to one DNS message: bytes in, bytes out. tcp selects the size limit (65535
 * instead of the UDP size the query's EDNS0 allows, else 512: larger answers are truncated
 * with TC set). Returns 0 with *out (malloc'd, caller frees) and *outlen, or -1 when the
 * packet is to be dropped (too short even for a header, or itself a response).
 */
int r53_dns_answer(struct app *app, const uint8_t *query, size_t len, bool tcp, uint8_t **out,
                   size_t *outlen);
/*
 * Checks one ResourceRecord value of `type`: 0 when it parses as that type's RDATA, -1 with
 * AWS's "Invalid Resource Record: ..." wording in msg.
 */
int r53_dns_rdata_check(const char *type, const char *value, struct buf *msg);

#endif
