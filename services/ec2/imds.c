/*
 * The instance metadata service, as an instance sees it at
 * $AWS_EC2_METADATA_SERVICE_ENDPOINT = http://127.0.0.1:<port>/_imds/<instance id>: the
 * meta-data tree, user-data, the identity document and the IMDSv2 token flow, in plain text
 * as 169.254.169.254 answers. It only reads instances; it never changes one.
 */
#include "emulator/common.h"
#include "services/ec2/instances.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/ids.h"
#include "emulator/protocol/protocol.h"
#include "services/ec2/ec2_internal.h"
#include "state/ec2_instances.h"
#include "state/ec2_network.h"

#define IMDS_TOKEN_TTL_MAX 21600 /* X-aws-ec2-metadata-token-ttl-seconds: 1..21600 */

static void
reply(struct http_resp *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain";
    buf_reset(&resp->body);
    buf_adds(&resp->body, text);
}

/* The HTML-less bodies IMDS uses for its errors, one per status. */
static void
reply_status(struct http_resp *resp, int status)
{
    static const struct {
        int status;       /* HTTP status */
        const char *text; /* body */
    } texts[] = {
        { 400, "Bad Request" }, { 401, "Unauthorized" },       { 403, "Forbidden" },
        { 404, "Not Found" },   { 405, "Method Not Allowed" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
        if (texts[i].status == status)
            reply(resp, status, texts[i].text);
}

static void
add_str(cJSON *dir, const char *name, const char *value)
{
    cJSON_AddStringToObject(dir, name, value ? value : "");
}

static const char *
str_of(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A MAC derived from the instance id, stable across boots: 0e:xx:xx:xx:xx:xx. */
static void
instance_mac(const char *id, char *out, size_t outsz)
{
    const char *h = id + 2;
    size_t n = strlen(h);
    char d[10];
    for (size_t i = 0; i < 10; i++)
        d[i] = i < n ? h[n - 10 + i] : '0';
    snprintf(out, outsz, "0e:%c%c:%c%c:%c%c:%c%c:%c%c", d[0], d[1], d[2], d[3], d[4], d[5], d[6],
             d[7], d[8], d[9]);
}

/* The identity document (EC2UG/instance-identity-documents). */
static char *
identity_document(struct aws_call *call, const struct ec2_instance_rec *r)
{
    cJSON *doc = cJSON_CreateObject();
    char iso[32];
    time_format_iso8601(r->launch_ms, iso);
    cJSON_AddStringToObject(doc, "accountId", call->account_id);
    cJSON_AddStringToObject(doc, "architecture", "x86_64");
    cJSON_AddStringToObject(doc, "availabilityZone", r->az);
    cJSON_AddNullToObject(doc, "billingProducts");
    cJSON_AddNullToObject(doc, "devpayProductCodes");
    cJSON_AddNullToObject(doc, "marketplaceProductCodes");
    cJSON_AddStringToObject(doc, "imageId", r->image_id);
    cJSON_AddStringToObject(doc, "instanceId", r->id);
    cJSON_AddStringToObject(doc, "instanceType", r->instance_type);
    cJSON_AddNullToObject(doc, "kernelId");
    cJSON_AddStringToObject(doc, "pendingTime", iso);
    cJSON_AddStringToObject(doc, "privateIp", r->private_ip);
    cJSON_AddNullToObject(doc, "ramdiskId");
    cJSON_AddStringToObject(doc, "region", r->region);
    cJSON_AddStringToObject(doc, "version", "2017-09-30");
    char *text = cJSON_Print(doc);
    char *copy = xstrdup(text);
    cJSON_free(text);
    cJSON_Delete(doc);
    return copy;
}

/*
 * The metadata of one instance as a tree: objects are directories, strings are leaves.
 * A key "0=name" is a directory that is listed as "0=name" and reached as "0" (public-keys).
 */
static cJSON *
metadata_tree(struct aws_call *call, const struct ec2_instance_rec *r)
{
    cJSON *root = cJSON_CreateObject();
    char mac[32], host[64], dns[160], buf[300];
    instance_mac(r->id, mac, sizeof(mac));
    snprintf(host, sizeof(host), "ip-%s", r->private_ip);
    for (char *p = host; *p; p++)
        if (*p == '.')
            *p = '-';
    if (strcmp(r->region, "us-east-1") == 0)
        snprintf(dns, sizeof(dns), "%s.ec2.internal", host);
    else
        snprintf(dns, sizeof(dns), "%s.%s.compute.internal", host, r->region);

    cJSON *md = cJSON_AddObjectToObject(root, "meta-data");
    add_str(md, "ami-id", r->image_id);
    snprintf(buf, sizeof(buf), "%d", r->ami_launch_index);
    add_str(md, "ami-launch-index", buf);
    add_str(md, "ami-manifest-path", "(unknown)");
    cJSON *bdm = cJSON_AddObjectToObject(md, "block-device-mapping");
    add_str(bdm, "ami", "/dev/xvda");
    add_str(bdm, "root", "/dev/xvda");
    add_str(md, "hostname", dns);
    add_str(md, "instance-action", "none");
    add_str(md, "instance-id", r->id);
    add_str(md, "instance-life-cycle", "on-demand");
    add_str(md, "instance-type", r->instance_type);
    add_str(md, "local-hostname", dns);
    add_str(md, "local-ipv4", r->private_ip);
    add_str(md, "mac", mac);
    cJSON *sgs = cJSON_Parse(r->security_groups ? r->security_groups : "[]");
    struct buf names = BUF_INIT, ids = BUF_INIT;
    const cJSON *g;
    cJSON_ArrayForEach(g, sgs)
    {
        const char *name = str_of(g, "GroupName"), *gid = str_of(g, "GroupId");
        buf_addf(&names, "%s%s", names.len ? "\n" : "", name ? name : "");
        buf_addf(&ids, "%s%s", ids.len ? "\n" : "", gid ? gid : "");
    }
    cJSON_Delete(sgs);
    cJSON *macs = cJSON_AddObjectToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(md, "network"), "interfaces"), "macs");
    cJSON *nic = cJSON_AddObjectToObject(macs, mac);
    add_str(nic, "device-number", "0");
    add_str(nic, "local-hostname", dns);
    add_str(nic, "local-ipv4s", r->private_ip);
    add_str(nic, "mac", mac);
    add_str(nic, "security-group-ids", ids.data);
    add_str(nic, "security-groups", names.data);
    add_str(nic, "subnet-id", r->subnet_id);
    add_str(nic, "vpc-id", r->vpc_id);
    cJSON *pl = cJSON_AddObjectToObject(md, "placement");
    add_str(pl, "availability-zone", r->az);
    add_str(pl, "region", r->region);
    add_str(md, "profile", "default-hvm");
    if (r->key_name[0]) {
        snprintf(buf, sizeof(buf), "0=%s", r->key_name);
        cJSON *key = cJSON_AddObjectToObject(cJSON_AddObjectToObject(md, "public-keys"), buf);
        /* public-keys/0/openssh-key: the key pair's public key in OpenSSH's one-line form.
           AWS keeps serving the key the instance was launched with after the pair is
           deleted; fogbank reads the pair now, so a deleted pair leaves the directory empty. */
        struct ec2_key_pair_row *k = xcalloc(1, sizeof(*k));
        if (ec2_store_key_pair_get_by_name(call->app->db, r->region, r->key_name, k) == 1)
            add_str(key, "openssh-key", k->public_key);
        free(k);
    }
    snprintf(buf, sizeof(buf), "%s", r->reservation_id);
    add_str(md, "reservation-id", buf);
    add_str(md, "security-groups", names.data);
    buf_release(&names);
    buf_release(&ids);
    cJSON *svc = cJSON_AddObjectToObject(md, "services");
    add_str(svc, "domain", "amazonaws.com");
    add_str(svc, "partition", "aws");

    if (r->iam_profile && *r->iam_profile) {
        cJSON *given = cJSON_Parse(r->iam_profile);
        const char *arn = str_of(given, "Arn"), *name = str_of(given, "Name");
        struct buf parn = BUF_INIT;
        if (arn)
            buf_adds(&parn, arn);
        else
            buf_addf(&parn, "arn:aws:iam::%s:instance-profile/%s", call->account_id,
                     name ? name : "");
        const char *slash = strrchr(parn.data, '/');
        const char *role = slash ? slash + 1 : parn.data;
        char iso[32], exp[32];
        time_format_iso8601(call->now_ms, iso);
        time_format_iso8601(call->now_ms + 6LL * 3600 * 1000, exp);
        cJSON *iam = cJSON_AddObjectToObject(md, "iam");
        cJSON *info = cJSON_CreateObject();
        cJSON_AddStringToObject(info, "Code", "Success");
        cJSON_AddStringToObject(info, "LastUpdated", iso);
        cJSON_AddStringToObject(info, "InstanceProfileArn", parn.data);
        cJSON_AddStringToObject(info, "InstanceProfileId", "AIPAFOGBANKPROFILE0001");
        char *text = cJSON_Print(info);
        add_str(iam, "info", text);
        cJSON_free(text);
        cJSON_Delete(info);
        /* Credentials any SDK inside accepts; fogbank does not check signatures. */
        cJSON *cred = cJSON_CreateObject();
        cJSON_AddStringToObject(cred, "Code", "Success");
        cJSON_AddStringToObject(cred, "LastUpdated", iso);
        cJSON_AddStringToObject(cred, "Type", "AWS-HMAC");
        cJSON_AddStringToObject(cred, "AccessKeyId", "ASIAFOGBANKINSTANCE0");
        cJSON_AddStringToObject(cred, "SecretAccessKey", "fogbank-instance-role-secret");
        cJSON_AddStringToObject(cred, "Token", "fogbank-instance-role-token");
        cJSON_AddStringToObject(cred, "Expiration", exp);
        text = cJSON_Print(cred);
        add_str(cJSON_AddObjectToObject(iam, "security-credentials"), role, text);
        cJSON_free(text);
        cJSON_Delete(cred);
        buf_release(&parn);
        cJSON_Delete(given);
    }
    cJSON *mo = cJSON_Parse(r->metadata_options ? r->metadata_options : "{}");
    const char *tags_on = str_of(mo, "InstanceMetadataTags");
    if (tags_on && strcmp(tags_on, "enabled") == 0) {
        cJSON *holder = cJSON_CreateObject();
        ec2_tags_add_to(call, r->id, holder);
        cJSON *dir = cJSON_AddObjectToObject(cJSON_AddObjectToObject(md, "tags"), "instance");
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(holder, "Tags"))
        {
            const char *k = str_of(t, "Key"), *v = str_of(t, "Value");
            if (k)
                add_str(dir, k, v);
        }
        cJSON_Delete(holder);
    }
    cJSON_Delete(mo);

    char *doc = identity_document(call, r);
    cJSON *dyn = cJSON_AddObjectToObject(root, "dynamic");
    add_str(cJSON_AddObjectToObject(dyn, "instance-identity"), "document", doc);
    free(doc);
    return root;
}

/* The child of dir named seg: an exact key, or "seg=..." (public-keys/0 is "0=name"). */
static cJSON *
child(const cJSON *dir, const char *seg, size_t n)
{
    cJSON *c;
    cJSON_ArrayForEach(c, dir)
    {
        if (strlen(c->string) == n && strncmp(c->string, seg, n) == 0)
            return c;
    }
    cJSON_ArrayForEach(c, dir)
    {
        if (strncmp(c->string, seg, n) == 0 && c->string[n] == '=')
            return c;
    }
    return NULL;
}

/* A directory listing: one entry a line, sub-directories with a trailing '/'. */
static void
listing(const cJSON *dir, struct buf *out)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, dir)
    {
        bool sub = cJSON_IsObject(c) && !strchr(c->string, '=');
        buf_addf(out, "%s%s%s", out->len ? "\n" : "", c->string, sub ? "/" : "");
    }
}

/* Answers GET <rest> (below /latest/) from the tree; user-data comes from the row. */
static void
answer_get(struct aws_call *call, const struct ec2_instance_rec *r, const char *rest,
           struct http_resp *resp)
{
    if (strcmp(rest, "user-data") == 0 || strcmp(rest, "user-data/") == 0) {
        struct buf raw = BUF_INIT;
        if (!r->user_data || !*r->user_data ||
            buf_add_base64_decoded(&raw, r->user_data, strlen(r->user_data)) < 0) {
            buf_release(&raw);
            reply_status(resp, 404);
            return;
        }
        resp->status = 200;
        resp->content_type = "application/octet-stream";
        buf_reset(&resp->body);
        buf_add(&resp->body, raw.data, raw.len);
        buf_release(&raw);
        return;
    }
    cJSON *root = metadata_tree(call, r);
    if (r->user_data && *r->user_data)
        add_str(root, "user-data", "");
    const cJSON *node = root;
    const char *p = rest;
    while (*p && node) {
        size_t n = strcspn(p, "/");
        if (n == 0) {
            p++;
            continue;
        }
        node = cJSON_IsObject(node) ? child(node, p, n) : NULL;
        p += n;
    }
    struct buf out = BUF_INIT;
    if (!node) {
        reply_status(resp, 404);
    } else if (cJSON_IsObject(node)) {
        listing(node, &out);
        reply(resp, 200, out.data);
    } else {
        reply(resp, 200, node->valuestring);
    }
    buf_release(&out);
    cJSON_Delete(root);
}

void
ec2_imds_route(struct aws_call *call, const struct http_req *req, const char *path,
               struct http_resp *resp)
{
    const char *p = path + strlen(EC2_IMDS_PREFIX);
    size_t idlen = strcspn(p, "/");
    char id[32];
    if (idlen == 0 || idlen >= sizeof(id)) {
        reply_status(resp, 404);
        return;
    }
    memcpy(id, p, idlen);
    id[idlen] = '\0';
    p += idlen;
    while (*p == '/')
        p++;
    struct ec2_instance_rec r;
    ec2_instance_rec_init(&r);
    if (ec2_store_get_instance(call->app->db, NULL, id, &r) != 1) {
        reply_status(resp, 404);
        goto out;
    }
    struct aws_call c = *call;
    c.region = r.region;
    cJSON *mo = cJSON_Parse(r.metadata_options ? r.metadata_options : "{}");
    const char *endpoint = str_of(mo, "HttpEndpoint");
    const char *tokens = str_of(mo, "HttpTokens");
    bool disabled = endpoint && strcmp(endpoint, "disabled") == 0;
    bool required = tokens && strcmp(tokens, "required") == 0;
    cJSON_Delete(mo);
    if (disabled) {
        /* HttpEndpoint=disabled: IMDS is off for this instance (403, AWS-NOTES §5.3). */
        reply_status(resp, 403);
        goto out;
    }
    if (!str_starts(p, "latest")) {
        if (*p == '\0' && strcmp(req->method, "GET") == 0)
            reply(resp, 200, "latest");
        else
            reply_status(resp, 404);
        goto out;
    }
    p += strlen("latest");
    while (*p == '/')
        p++;

    if (strcmp(p, "api/token") == 0) {
        if (strcmp(req->method, "PUT") != 0) {
            reply_status(resp, 405);
            goto out;
        }
        const char *ttl_s = http_req_header(req, "X-aws-ec2-metadata-token-ttl-seconds");
        char *end = NULL;
        long ttl = ttl_s ? strtol(ttl_s, &end, 10) : 0;
        if (!ttl_s || end == ttl_s || *end || ttl < 1 || ttl > IMDS_TOKEN_TTL_MAX) {
            reply_status(resp, 400);
            goto out;
        }
        char uuid[37];
        struct buf token = BUF_INIT;
        ids_uuid(call->app->ids, uuid);
        buf_addf(&token, "AQAEA%s", uuid);
        for (char *q = token.data; *q; q++)
            if (*q == '-')
                *q = 'x';
        if (ec2_store_put_imds_token(call->app->db, token.data, r.id, call->now_ms + ttl * 1000) <
            0) {
            resp->status = 500;
            buf_release(&token);
            goto out;
        }
        reply(resp, 200, token.data);
        http_resp_header(resp, "X-aws-ec2-metadata-token-ttl-seconds", ttl_s);
        buf_release(&token);
        goto out;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        reply_status(resp, 405);
        goto out;
    }
    /* A token, when sent, must be valid even where tokens are optional (IMDSv2 rules). */
    const char *token = http_req_header(req, "X-aws-ec2-metadata-token");
    if (token) {
        int ok = ec2_store_check_imds_token(call->app->db, token, r.id, call->now_ms);
        if (ok != 1) {
            reply_status(resp, 401);
            goto out;
        }
    } else if (required) {
        reply_status(resp, 401);
        goto out;
    }
    if (*p == '\0') {
        struct buf out = BUF_INIT;
        buf_adds(&out, "dynamic\nmeta-data");
        if (r.user_data && *r.user_data)
            buf_adds(&out, "\nuser-data");
        reply(resp, 200, out.data);
        buf_release(&out);
        goto out;
    }
    answer_get(&c, &r, p, resp);
out:
    ec2_instance_rec_release(&r);
}
