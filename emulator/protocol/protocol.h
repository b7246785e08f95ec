/*
 * The wire-protocol layer: turns an HTTP request into a typed cJSON input tree validated
 * against the operation's input shape, and a handler's cJSON output tree (or an aws_err)
 * into the bytes the real service would send. One `struct protocol` per AWS protocol:
 * query (Auto Scaling, ELB, ELBv2, CloudFormation, STS), ec2, json (CodeDeploy) and
 * rest-xml (Route53, S3). Nothing here knows any service's behaviour, SQL or the clock.
 *
 * The neutral tree (what handlers see and produce), typed by the model:
 *   structure -> object keyed by member name (model names, not wire names)
 *   list      -> array;  map -> object
 *   string, enum -> string;  integer, long, float, double -> number;  boolean -> true/false
 *   timestamp -> number: milliseconds since the Unix epoch (integral)
 *   blob      -> string holding standard base64 of the bytes
 * Members absent on the wire are absent in the tree. Output members absent in the tree
 * are not written.
 */
#ifndef FB_PROTOCOL_H
#define FB_PROTOCOL_H

#include "../common.h"
#include "../aws_err.h"
#include "../buf.h"
#include "../model.h"
#include "../wire.h"

#include <cjson/cJSON.h>

/* Decoded key/value pairs of a query string or form body, in order. */
struct param {
    char *key;   /* percent-decoded, owned */
    char *value; /* percent-decoded, owned; "" for "k" or "k=" */
};

struct params {
    struct param *v; /* n entries */
    size_t n;
    size_t alloc;
};

#define PARAMS_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/*
 * Appends the pairs of an application/x-www-form-urlencoded string ('+' is a space).
 * Returns -1 on malformed percent-encoding (the pairs parsed so far stay).
 */
int params_parse(struct params *p, const char *s, size_t n);
/* The value of the last pair named key, or NULL. */
const char *params_get(const struct params *p, const char *key);
void params_release(struct params *p);

/* Percent-decodes n bytes into out ('+' stays '+'); -1 on a bad escape. */
int url_decode(struct buf *out, const char *s, size_t n);

/* Everything the protocol layer knows about one API request. The router fills it. */
struct aws_request {
    const struct http_req *http; /* the raw request (borrowed) */
    const struct model *model;   /* the service's model */
    const char *service;         /* fogbank/botocore service name: "ec2" */
    const char *op_name;         /* set by identify(); points into params, http or model */
    const cJSON *op;             /* model operation, set by the router after identify() */
    char path[2048];             /* percent-decoded path of the target, without the query */
    const char *raw_path;        /* start of the raw target (path part ends at '?' or NUL) */
    const char *raw_query;       /* raw query string after '?', or "" */
    struct params params;        /* query: query-string + form body pairs; others: query
                                      string pairs */
    const char *region;          /* from the credential scope, default "us-east-1" */
    char request_id[40];         /* UUID for the envelope and x-amzn-RequestId */
};

struct protocol {
    const char *name; /* "query", "ec2", "json", "rest-xml" */
    /*
     * Names the operation the request asks for: sets req->op_name to the name the client
     * used, even when the model does not know it (the router then answers "unknown");
     * -1 + err when the request names no operation at all (no Action, no X-Amz-Target, no
     * route matches).
     */
    int (*identify)(struct aws_request *req, struct aws_err *err);
    /*
     * Builds the typed input tree of req->op from the request and validates it against
     * the input shape (required members, types, enums, min/max). -1 + err with the code
     * and wording the real service uses for that protocol.
     */
    int (*decode)(struct aws_request *req, cJSON **in, struct aws_err *err);
    /* Serialises a handler's output tree as the real service would (status, headers, body). */
    void (*encode)(const struct aws_request *req, const cJSON *out, struct http_resp *resp);
    /* Serialises an error in the protocol's own envelope. req->op may be NULL. */
    void (*encode_error)(const struct aws_request *req, const struct aws_err *err,
                         struct http_resp *resp);
};

extern const struct protocol proto_query;
extern const struct protocol proto_ec2;
extern const struct protocol proto_json;
extern const struct protocol proto_restxml;

/* The protocol implementation for a model's metadata.protocol, or NULL. */
const struct protocol *protocol_for(const char *name);

/*
 * Renders `node`, a value of structure shape `shape_name` in service `service`'s model, as
 * the service's protocol writes the members of such a value, and returns it as an opaque
 * string (owned by the caller; *len gets its length). A handler may keep it and later place
 * it in an output tree as a cJSON raw node (cJSON_CreateRaw) where a value of that shape
 * belongs: the encoder writes it verbatim there. This lets a handler reuse the rendering of
 * an item that has not changed (DescribeInstances: most of an answer's time was building
 * and encoding trees of unchanged instances). NULL for a protocol without the ability
 * (json, rest-xml) or an unknown shape.
 */
char *protocol_prerender(const char *service, const char *shape_name, const cJSON *node,
                         size_t *len);

/* ---- shared helpers (protocol/shared.c) ---- */

/* Formats ms since the epoch as ISO 8601 UTC with milliseconds: 2026-11-28T10:00:00.000Z */
void time_format_iso8601(int64_t ms, char out[32]);
/* Formats ms as RFC 1123 (HTTP dates, rest-xml headers): Sat, 28 Nov 2026 10:00:00 GMT */
void time_format_rfc1123(int64_t ms, char out[40]);
/*
 * Parses ISO 8601 (with or without fraction and with Z or +hh:mm), RFC 1123, or a plain
 * epoch-seconds number (possibly fractional); -1 if it is none of them.
 */
int time_parse(const char *s, int64_t *ms);

/* One broken constraint found by validate_input(). */
struct violation {
    enum {
        VIOLATION_MISSING, /* a required member is absent */
        VIOLATION_ENUM,    /* not one of the enum values */
        VIOLATION_MIN,     /* string/list/map shorter than min, or number below min */
        VIOLATION_MAX,     /* longer than max, or above max */
    } kind;
    char path[256];     /* member path in model names joined by '.', e.g. "Filters.1.Name" */
    char member[128];   /* the last member name, e.g. "AutoScalingGroupName" */
    char value[256];    /* the offending value as text ("null" when missing), truncated */
    const cJSON *shape; /* the shape whose constraint failed */
};

#define VALIDATE_MAX_VIOLATIONS 16

/*
 * Checks a typed input tree against shape `shape_name`: required members, enums, min/max
 * lengths and ranges, recursively. Fills up to max violations; returns how many it found
 * (0 = valid; may exceed max, only max are filled).
 */
size_t validate_input(const struct model *m, const char *shape_name, const cJSON *tree,
                      struct violation *v, size_t max);

/*
 * Appends the Java (Coral) services' wording of n violations out of `found` (found >= n):
 * "1 validation error detected: Value null at 'applicationName' failed to satisfy
 * constraint: Member must not be null", several joined by "; ". Paths are lower-camel with
 * list items as "tags.1.member.key". Used by json (ValidationException) and rest-xml
 * (Route53 InvalidInput); defined in protocol/json.c.
 */
void json_violations_message(struct buf *out, const struct violation *v, size_t n, size_t found);

/* ---- the flat key=value engine shared by query and ec2 (protocol/query.c) ---- */

/* The two dialects of flat parameters: botocore's QuerySerializer and EC2Serializer. */
enum qflat_flavor {
    QFLAT_QUERY, /* Name.member.N lists, Name.entry.N.key maps, member "member" in output */
    QFLAT_EC2,   /* Name.N lists, queryName / capitalised locationName, "item" in output */
};

/* One parameter whose text does not parse as its shape's type. */
struct qflat_bad {
    char key[256];    /* the wire key, e.g. "Filter.1.Name" */
    char path[256];   /* the member path in model names, as in struct violation */
    char member[128]; /* the last member name */
    char value[256];  /* the text received, truncated */
    const char *type; /* the shape type it should have had: "integer", "boolean", ... */
};

#define QFLAT_MAX_BAD 16

struct qflat_result {
    cJSON *tree;                         /* the typed input tree (owned by the caller) */
    struct qflat_bad bad[QFLAT_MAX_BAD]; /* values of the wrong type, in shape order */
    size_t n_bad;                        /* how many (may exceed QFLAT_MAX_BAD) */
    const char *unknown;                 /* EC2 only: the first key the shape does not know
                                            (points into req->params), or NULL */
};

/*
 * Builds the typed tree of req->op's input shape from req->params as botocore writes them
 * (for an op without input: an empty object). Parameters the shape does not name are
 * ignored (query) or reported in r->unknown (ec2; Action, Version and auth parameters are
 * always ignored). Never fails: problems are reported in r.
 */
void qflat_decode(const struct aws_request *req, enum qflat_flavor fl, struct qflat_result *r);
/* The wire key of a model member path ("Filters.1.Name" -> "Filter.1.Name") into out. */
void qflat_wire_key(const struct model *m, const char *shape_name, const char *path,
                    enum qflat_flavor fl, struct buf *out);
/* Appends the members of `node` (typed by `shape`) as XML elements, in the shape's order. */
void qflat_xml_members(struct buf *b, const struct model *m, const cJSON *shape, const cJSON *node,
                       enum qflat_flavor fl);

#endif
