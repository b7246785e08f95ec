/*
 * EC2 images (AMIs): DescribeImages, RegisterImage, DeregisterImage, the built-in images of
 * every region, the image look-ups instances need (layer stack, boot script), CreateImage's
 * copy of an instance's disk, and `fogbank ctl image import`. The files of a layer are
 * handled by layers.c, the rows by state/ec2_images.c; this file holds the AWS rules.
 *
 * On disk an image is <data dir>/images/<ami-id>/layer, a directory an instance's overlay
 * mounts read-only; its stack is its own layer, then its parent's stack (top-most first),
 * then the host's root. An image adds no layer when it was registered without a local
 * ImageLocation, and the built-in images add none: instances of them see the host's root.
 * The boot script is /etc/fogbank/boot inside the image: the top-most layer that holds it
 * (unless a higher layer deleted it) gives its host path; the host's own /etc/fogbank/boot
 * does not count. Images are 'available' as soon as the call returns: the copy is done in
 * the call, so there is nothing to wait for (AWS's minutes of 'pending' are not modelled).
 */
#include "emulator/common.h"
#include "services/ec2/ec2.h"
#include "services/ec2/ec2_internal.h"
#include "services/ec2/layers.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/log.h"
#include "emulator/protocol/protocol.h"
#include "state/ec2_images.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/xattr.h>

/* The account behind the "amazon" owner alias (Amazon Linux AMIs are owned by it). */
#define AMAZON_OWNER_ID "137112412989"
#define AMAZON_ALIAS    "amazon"

/* Where an image keeps the script the supervisor runs at every boot. */
#define BOOT_SCRIPT "/etc/fogbank/boot"

/* The built-ins' CreationDate: fixed, so their listing is the same after a reset. */
#define BUILTIN_CREATED_MS INT64_C(1735689600000) /* 2025-01-01T00:00:00.000Z */

/* A fresh EBS-backed AMI's root volume as AWS reports it (8 GiB gp3 for Amazon Linux). */
#define ROOT_VOLUME_GIB 8

struct builtin_image {
    const char *name;        /* unique per region, the id is derived from it */
    const char *description; /* as DescribeImages shows it */
    const char *root_device; /* RootDeviceName */
};

/* Look-alikes of what a new account finds first: Amazon Linux 2023 and Ubuntu 22.04. */
static const struct builtin_image builtin_images[] = {
    { "al2023-ami-fogbank-x86_64", "Amazon Linux 2023 AMI (fogbank: the host's root, no layer)",
      "/dev/xvda" },
    { "ubuntu-jammy-22.04-amd64-server-fogbank",
      "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image (fogbank: the host's root, no layer)",
      "/dev/sda1" },
};

/* ---- small helpers ---- */

static struct db *
call_db(struct aws_call *call)
{
    return call->app->db;
}

static const char *
get_string(const cJSON *in, const char *member)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, member);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
malformed(struct aws_err *err, const char *id)
{
    /* As seen from AWS: Invalid id: "{var.ami_id}" (expecting "ami-...")
       (hashicorp/terraform#22172). */
    return aws_err_setx(err, 400, "InvalidAMIID.Malformed", true,
                        "Invalid id: \"%s\" (expecting \"ami-...\")", id);
}

static int
not_found(struct aws_err *err, const char *id)
{
    /* "The image id '[ami-0c55b159cbfafe1f0]' does not exist" (the brackets are AWS's;
       brikis98/terraform-up-and-running-code#65). */
    return aws_err_setx(err, 400, "InvalidAMIID.NotFound", true,
                        "The image id '[%s]' does not exist", id);
}

static int
unavailable(struct aws_err *err, const char *id)
{
    /* Deregistering twice: "InvalidAMIID.Unavailable: The image ID 'ami-XXXXXXX' is no
       longer available" (ansible/ansible#24945). */
    return aws_err_setx(err, 400, "InvalidAMIID.Unavailable", true,
                        "The image ID '%s' is no longer available", id);
}

static bool
image_visible(struct aws_call *call, const struct ec2_image_row *r)
{
    return r->public || strcmp(r->owner_id, call->account_id) == 0;
}

/* 64-bit FNV-1a: stable across builds and hosts, for the built-ins' ids. */
static uint64_t
fnv1a(const char *a, const char *b)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    h = (h ^ '/') * UINT64_C(0x100000001b3);
    for (const char *s = b; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return h;
}

static void
builtin_id(const char *region, const char *name, char *out, size_t outsz)
{
    /* 17 hex digits like every new AMI id; the leading 0 is common in real ones. */
    snprintf(out, outsz, "ami-0%016llx", (unsigned long long)fnv1a(region, name));
}

/* The root volume mapping every image reports; the snapshot id mirrors the image id. */
static char *
default_block_devices(const char *id, const char *root_device)
{
    char snap[40];
    snprintf(snap, sizeof(snap), "snap-%s", str_starts(id, "ami-") ? id + 4 : id);
    cJSON *list = cJSON_CreateArray();
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "DeviceName", root_device);
    cJSON *ebs = cJSON_AddObjectToObject(m, "Ebs");
    cJSON_AddBoolToObject(ebs, "DeleteOnTermination", true);
    cJSON_AddStringToObject(ebs, "SnapshotId", snap);
    cJSON_AddNumberToObject(ebs, "VolumeSize", ROOT_VOLUME_GIB);
    cJSON_AddStringToObject(ebs, "VolumeType", "gp3");
    cJSON_AddBoolToObject(ebs, "Encrypted", false);
    cJSON_AddItemToArray(list, m);
    char *s = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    return s;
}

/*
 * The built-in images of the call's region, created the first time the region's images are
 * looked at (as a new account finds them there), so a reset brings them back too.
 */
static int
ensure_builtins(struct aws_call *call, struct aws_err *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(builtin_images); i++) {
        const struct builtin_image *b = &builtin_images[i];
        struct ec2_image_row r;
        memset(&r, 0, sizeof(r));
        builtin_id(call->region, b->name, r.id, sizeof(r.id));
        int found = ec2_store_image_get(call_db(call), call->region, r.id, &r);
        if (found < 0)
            return ec2_db_failed(err);
        if (found) {
            ec2_store_image_release(&r);
            continue;
        }
        struct buf location = BUF_INIT;
        buf_addf(&location, "%s/%s", AMAZON_ALIAS, b->name);
        snprintf(r.region, sizeof(r.region), "%s", call->region);
        r.name = (char *)b->name;
        r.description = (char *)b->description;
        r.location = location.data;
        snprintf(r.owner_id, sizeof(r.owner_id), "%s", AMAZON_OWNER_ID);
        snprintf(r.owner_alias, sizeof(r.owner_alias), "%s", AMAZON_ALIAS);
        snprintf(r.state, sizeof(r.state), "available");
        snprintf(r.architecture, sizeof(r.architecture), "x86_64");
        snprintf(r.root_device_name, sizeof(r.root_device_name), "%s", b->root_device);
        r.block_devices = default_block_devices(r.id, b->root_device);
        r.ena_support = true;
        r.public = true;
        r.boot_script = (char *)BOOT_SCRIPT;
        r.builtin = true;
        r.created_ms = BUILTIN_CREATED_MS;
        int rc = ec2_store_image_put(call_db(call), &r);
        free(r.block_devices);
        buf_release(&location);
        if (rc < 0)
            return ec2_db_failed(err);
    }
    return 0;
}

/* ---- names ---- */

/* CreateImage / RegisterImage: "3-128 alphanumeric characters, parentheses (()), square
   brackets ([]), spaces ( ), periods (.), slashes (/), dashes (-), single quotes ('),
   at-signs (@), or underscores(_)" (EC2 API reference, CreateImage Name). */
static bool
image_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 128)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("()[] ./-'@_", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static int
check_image_name(struct aws_call *call, const char *region, const char *name, struct aws_err *err)
{
    if (!image_name_valid(name))
        /* The wording AWS answers with (webdigi/AWS-AMI-Automated-Creation-Deletion#6),
           narrower than the characters it actually accepts. */
        return aws_err_setx(err, 400, "InvalidAMIName.Malformed", true,
                            "AMI names must be between 3 and 128 characters long, and may "
                            "contain letters, numbers, '(', ')', '.', '-', '/' and '_'");
    char other[32];
    int found = ec2_store_image_find_name(call_db(call), region, call->account_id, name, other,
                                          sizeof(other));
    if (found < 0)
        return ec2_db_failed(err);
    if (found)
        /* "AMI name consul-ubuntu-... is already in use by AMI ami-0f589d96558469b10"
           (hashicorp/terraform-aws-consul#131). */
        return aws_err_setx(err, 400, "InvalidAMIName.Duplicate", true,
                            "AMI name %s is already in use by AMI %s", name, other);
    return 0;
}

/* ---- layers on disk ---- */

static int
no_data_dir(struct aws_err *err)
{
    log_error("ec2 images: no data directory for image layers");
    return aws_err_set(err, AWS_E_INTERNAL_ERROR, "fogbank has no data directory for images.");
}

/* The absolute path of a layer directory stored relative to the data dir. */
static void
layer_abs(struct aws_call *call, const char *rel, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "%s/%s", call->app->data_dir, rel);
}

/* images/<id>: what is removed when a new image's layer cannot be completed. */
static void
image_dir_abs(struct aws_call *call, const char *id, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "%s/images/%s", call->app->data_dir, id);
}

static void
remove_image_dir(struct aws_call *call, const char *id)
{
    struct buf dir = BUF_INIT;
    image_dir_abs(call, id, &dir);
    if (layer_remove_tree(dir.data) < 0)
        log_error("ec2 images: cannot remove %s: %s", dir.data, strerror(errno));
    buf_release(&dir);
}

/*
 * Creates <data dir>/images/<id>/layer, empty, into abs (and its relative form into rel).
 * A directory left under that id can only predate a reset (ids come from a seeded
 * generator and no row holds this one), so it is stale and goes first.
 */
static int
make_layer_dir(struct aws_call *call, const char *id, struct buf *rel, struct buf *abs,
               struct aws_err *err)
{
    if (!call->app->data_dir)
        return no_data_dir(err);
    struct buf dir = BUF_INIT;
    image_dir_abs(call, id, &dir);
    int rc = layer_remove_tree(dir.data);
    buf_reset(rel);
    buf_addf(rel, "images/%s/layer", id);
    layer_abs(call, rel->data, abs);
    if (rc == 0)
        rc = layer_mkdir_p(abs->data, 0755);
    if (rc < 0) {
        log_error("ec2 images: cannot create %s: %s", abs->data, strerror(errno));
        rc = aws_err_set(err, AWS_E_INTERNAL_ERROR, "Could not create the image layer.");
    }
    buf_release(&dir);
    return rc;
}

/* The layer directories of an image's stack, top-most first, as absolute paths. */
static int
stack_layers(struct aws_call *call, const struct ec2_image_row *top, char **layers, size_t max,
             size_t *n, struct aws_err *err)
{
    *n = 0;
    struct ec2_image_row cur;
    memset(&cur, 0, sizeof(cur));
    bool owned = false;
    const struct ec2_image_row *r = top;
    struct buf abs = BUF_INIT;
    int rc = 0;
    for (size_t guard = 0; r && guard <= EC2_MAX_LAYERS + 64; guard++) {
        if (r->layer_dir && call->app->data_dir) {
            if (*n == max) {
                log_error("ec2 images: %s stacks more than %zu layers", top->id, max);
                break;
            }
            layer_abs(call, r->layer_dir, &abs);
            layers[(*n)++] = xstrdup(abs.data);
        }
        if (!r->parent_id[0])
            break;
        char parent[32];
        snprintf(parent, sizeof(parent), "%s", r->parent_id);
        if (owned)
            ec2_store_image_release(&cur);
        int found = ec2_store_image_get(call_db(call), top->region, parent, &cur);
        owned = found > 0;
        if (found < 0) {
            rc = ec2_db_failed(err);
            break;
        }
        if (!found) {
            log_error("ec2 images: %s names a missing parent %s", top->id, parent);
            break;
        }
        r = &cur;
    }
    if (owned)
        ec2_store_image_release(&cur);
    buf_release(&abs);
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            free(layers[i]);
        *n = 0;
    }
    return rc;
}

/* Whether the path (inside a layer) is an opaque directory, without following a symlink. */
static bool
path_is_opaque_dir(const char *path)
{
    char v[2];
    ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v));
    if (n == 1 && (v[0] == 'y' || v[0] == 'x'))
        return true;
    n = lgetxattr(path, "user.overlay.opaque", v, sizeof(v));
    return n == 1 && (v[0] == 'y' || v[0] == 'x');
}

/* What one layer says about a path: it holds the file, it says nothing (look below), or it
   hides the path from the layers below (a whiteout, a non-directory on the way, or the
   file replaced by something that is not a regular file). */
enum path_answer { PATH_PRESENT, PATH_ABSENT, PATH_HIDDEN };

static enum path_answer
layer_lookup(const char *layer, const char *inside, struct buf *p, bool *opaque_on_way)
{
    buf_reset(p);
    buf_adds(p, layer);
    const char *s = inside;
    while (*s == '/')
        s++;
    while (*s) {
        size_t len = strcspn(s, "/");
        buf_addc(p, '/');
        buf_add(p, s, len);
        s += len;
        while (*s == '/')
            s++;
        struct stat st;
        if (lstat(p->data, &st) < 0)
            return PATH_ABSENT;
        if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
            return PATH_HIDDEN; /* a whiteout: deleted in this layer */
        if (!*s)
            return S_ISREG(st.st_mode) ? PATH_PRESENT : PATH_HIDDEN;
        if (!S_ISDIR(st.st_mode))
            return PATH_HIDDEN;
        if (path_is_opaque_dir(p->data))
            *opaque_on_way = true;
    }
    return PATH_ABSENT;
}

/*
 * The host path of the image's boot script as the merged disk shows it: the top-most layer
 * holding a regular file there wins, unless a higher layer hides it (a whiteout, an opaque
 * directory on the way, something else in its place). NULL when there is none.
 */
static char *
find_boot_script(char *const *layers, size_t n, const char *inside)
{
    struct buf p = BUF_INIT;
    char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        bool opaque = false;
        enum path_answer a = layer_lookup(layers[i], inside, &p, &opaque);
        if (a == PATH_PRESENT)
            found = xstrdup(p.data);
        if (a != PATH_ABSENT || opaque)
            break;
    }
    buf_release(&p);
    return found;
}

static int
fill_info(struct aws_call *call, const struct ec2_image_row *r, struct ec2_image_info *out,
          struct aws_err *err)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", r->id);
    snprintf(out->state, sizeof(out->state), "%s", r->state);
    snprintf(out->root_device_name, sizeof(out->root_device_name), "%s", r->root_device_name);
    snprintf(out->architecture, sizeof(out->architecture), "%s", r->architecture);
    size_t n = 0;
    if (stack_layers(call, r, out->layers, EC2_MAX_LAYERS, &n, err) < 0)
        return -1;
    out->layers[n] = NULL;
    out->boot_script = find_boot_script(
            out->layers, n, r->boot_script && *r->boot_script ? r->boot_script : BOOT_SCRIPT);
    return 0;
}

/* The image `id` of the call's region, visible to the account, in any state: 1 found. */
static int
lookup(struct aws_call *call, const char *id, struct ec2_image_row *r, struct aws_err *err)
{
    if (!ec2_id_well_formed(id, "ami"))
        return malformed(err, id);
    if (ensure_builtins(call, err) < 0)
        return -1;
    int found = ec2_store_image_get(call_db(call), call->region, id, r);
    if (found < 0)
        return ec2_db_failed(err);
    if (found && !image_visible(call, r)) {
        ec2_store_image_release(r);
        found = 0;
    }
    if (!found)
        return not_found(err, id);
    return 1;
}

int
ec2_image_get(struct aws_call *call, const char *id, struct ec2_image_info *out,
              struct aws_err *err)
{
    struct ec2_image_row r;
    if (lookup(call, id, &r, err) < 0)
        return -1;
    int rc;
    /* AWS: "The specified AMI has been deregistered and is no longer available, or is not
       in a state from which you can launch an instance" (InvalidAMIID.Unavailable, EC2 API
       error codes). */
    if (strcmp(r.state, "available") != 0)
        rc = unavailable(err, id);
    else
        rc = fill_info(call, &r, out, err);
    ec2_store_image_release(&r);
    return rc;
}

int
ec2_image_get_for_boot(struct aws_call *call, const char *id, struct ec2_image_info *out,
                       struct aws_err *err)
{
    struct ec2_image_row r;
    if (lookup(call, id, &r, err) < 0)
        return -1;
    int rc = fill_info(call, &r, out, err);
    ec2_store_image_release(&r);
    return rc;
}

void
ec2_image_info_release(struct ec2_image_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < EC2_MAX_LAYERS && info->layers[i]; i++) {
        free(info->layers[i]);
        info->layers[i] = NULL;
    }
    free(info->boot_script);
    info->boot_script = NULL;
}

void
ec2_images_reset(struct app *app)
{
    if (!app->data_dir)
        return;
    struct buf dir = BUF_INIT;
    buf_addf(&dir, "%s/images", app->data_dir);
    if (layer_remove_tree(dir.data) < 0)
        log_error("ec2 images: cannot remove %s: %s", dir.data, strerror(errno));
    buf_release(&dir);
}

/* ---- creating images ---- */

/* What a new image is made of; every pointer is borrowed. */
struct image_spec {
    const char *region;                 /* where it lives */
    const char *name;                   /* validated here */
    const char *description;            /* NULL: none */
    const char *location;               /* ImageLocation to report; NULL: <account>/<name> */
    const char *architecture;           /* NULL: x86_64 */
    const char *root_device_name;       /* NULL: /dev/xvda */
    const cJSON *block_devices;         /* BlockDeviceMappings; NULL: the default root volume */
    bool ena_support;                   /* EnaSupport */
    const char *import_path;            /* a host directory or tarball to copy into the layer */
    unsigned import_flags;              /* enum layer_flags for import_path */
    const char *upper_dir;              /* an instance's writable layer (CreateImage) */
    const struct ec2_image_row *parent; /* the image below (CreateImage), or NULL */
    const char *source_instance_id;     /* CreateImage's instance, or NULL */
};

/* Copies each layer of parent's stack, bottom-most first, onto dst: one squashed layer. */
static int
squash_parent(struct aws_call *call, const struct ec2_image_row *parent, const char *dst,
              struct aws_err *err)
{
    char *layers[EC2_MAX_LAYERS + 1];
    size_t n = 0;
    if (stack_layers(call, parent, layers, EC2_MAX_LAYERS, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = n; i-- > 0 && rc == 0;)
        rc = layer_copy_tree(layers[i], dst, 0, err);
    for (size_t i = 0; i < n; i++)
        free(layers[i]);
    return rc;
}

static int
image_create(struct aws_call *call, const struct image_spec *s, char *id, size_t idsz,
             struct aws_err *err)
{
    if (check_image_name(call, s->region, s->name, err) < 0)
        return -1;

    struct ec2_image_row r;
    memset(&r, 0, sizeof(r));
    ec2_new_id(call, "ami", r.id, sizeof(r.id));
    snprintf(id, idsz, "%s", r.id);

    struct buf rel = BUF_INIT, abs = BUF_INIT, location = BUF_INIT;
    bool has_layer = s->import_path || s->upper_dir;
    int rc = 0;
    r.depth = s->parent ? s->parent->depth : 0;
    if (has_layer) {
        rc = make_layer_dir(call, r.id, &rel, &abs, err);
        /* The supervisor mounts at most EC2_MAX_LAYERS: past that the new image carries
           its whole stack in one layer instead of stacking on its parent. */
        bool squash = s->parent && s->parent->depth + 1 > EC2_MAX_LAYERS;
        if (rc == 0 && squash)
            rc = squash_parent(call, s->parent, abs.data, err);
        if (rc == 0 && s->upper_dir)
            rc = layer_copy_tree(s->upper_dir, abs.data, 0, err);
        if (rc == 0 && s->import_path) {
            struct stat st;
            if (stat(s->import_path, &st) == 0 && S_ISDIR(st.st_mode))
                rc = layer_copy_tree(s->import_path, abs.data, s->import_flags, err);
            else
                rc = layer_extract_tar(s->import_path, abs.data, err);
        }
        r.depth = squash ? 1 : r.depth + 1;
        if (!squash && s->parent)
            snprintf(r.parent_id, sizeof(r.parent_id), "%s", s->parent->id);
        r.layer_dir = rel.data;
    } else if (s->parent) {
        snprintf(r.parent_id, sizeof(r.parent_id), "%s", s->parent->id);
    }

    if (rc == 0) {
        if (s->location)
            buf_adds(&location, s->location);
        else
            buf_addf(&location, "%s/%s", call->account_id, s->name);
        snprintf(r.region, sizeof(r.region), "%s", s->region);
        r.name = (char *)s->name;
        r.description = (char *)s->description;
        r.location = location.data;
        snprintf(r.owner_id, sizeof(r.owner_id), "%s", call->account_id);
        snprintf(r.state, sizeof(r.state), "available");
        snprintf(r.architecture, sizeof(r.architecture), "%s",
                 s->architecture ? s->architecture : "x86_64");
        snprintf(r.root_device_name, sizeof(r.root_device_name), "%s",
                 s->root_device_name ? s->root_device_name : "/dev/xvda");
        r.block_devices = s->block_devices ? cJSON_PrintUnformatted(s->block_devices)
                                           : default_block_devices(r.id, r.root_device_name);
        r.ena_support = s->ena_support;
        r.boot_script = (char *)BOOT_SCRIPT;
        if (s->source_instance_id)
            snprintf(r.source_instance_id, sizeof(r.source_instance_id), "%s",
                     s->source_instance_id);
        r.created_ms = call->now_ms;
        if (ec2_store_image_put(call_db(call), &r) < 0)
            rc = ec2_db_failed(err);
        free(r.block_devices);
    }
    if (rc < 0 && has_layer && call->app->data_dir)
        remove_image_dir(call, r.id);
    buf_release(&rel);
    buf_release(&abs);
    buf_release(&location);
    return rc;
}

/* A host path the client named: absolute, and a directory or a regular file (a tarball). */
static int
check_import_path(const char *path, const char *member, struct aws_err *err)
{
    if (path[0] != '/')
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                           "%s must be an absolute path on the fogbank host: %s", member, path);
    struct stat st;
    if (stat(path, &st) < 0)
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "%s %s: %s", member, path,
                           strerror(errno));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                           "%s %s is neither a directory nor a tar archive", member, path);
    return 0;
}

int
ec2_image_create_from_disk(struct aws_call *call, const char *source_image_id,
                           const char *upper_dir, const char *name, const char *description,
                           const char *instance_id, char *new_id, size_t new_id_sz,
                           struct aws_err *err)
{
    struct ec2_image_row parent;
    /* The source may have been deregistered since the instance launched: the instance
       still runs on it, so its row (and layer) are found all the same. */
    if (lookup(call, source_image_id, &parent, err) < 0)
        return -1;
    struct image_spec s = {
        .region = call->region,
        .name = name,
        .description = description,
        .architecture = parent.architecture,
        .root_device_name = parent.root_device_name,
        .ena_support = parent.ena_support,
        .upper_dir = upper_dir,
        .parent = &parent,
        .source_instance_id = instance_id,
    };
    int rc = image_create(call, &s, new_id, new_id_sz, err);
    ec2_store_image_release(&parent);
    return rc;
}

/* ---- DescribeImages ---- */

static const struct ec2_filter_def image_filters[] = {
    { "architecture", "Architecture" },
    { "block-device-mapping.delete-on-termination", "BlockDeviceMappings.Ebs.DeleteOnTermination" },
    { "block-device-mapping.device-name", "BlockDeviceMappings.DeviceName" },
    { "block-device-mapping.encrypted", "BlockDeviceMappings.Ebs.Encrypted" },
    { "block-device-mapping.snapshot-id", "BlockDeviceMappings.Ebs.SnapshotId" },
    { "block-device-mapping.volume-size", "BlockDeviceMappings.Ebs.VolumeSize" },
    { "block-device-mapping.volume-type", "BlockDeviceMappings.Ebs.VolumeType" },
    { "creation-date", "CreationDate" },
    { "description", "Description" },
    { "ena-support", "EnaSupport" },
    { "hypervisor", "Hypervisor" },
    { "image-id", "ImageId" },
    { "image-type", "ImageType" },
    { "is-public", "Public" },
    { "manifest-location", "ImageLocation" },
    { "name", "Name" },
    { "owner-alias", "ImageOwnerAlias" },
    { "owner-id", "OwnerId" },
    { "platform-details", "PlatformDetails" },
    { "root-device-name", "RootDeviceName" },
    { "root-device-type", "RootDeviceType" },
    { "source-instance-id", "SourceInstanceId" },
    { "state", "State" },
    { "usage-operation", "UsageOperation" },
    { "virtualization-type", "VirtualizationType" },
};

/* The Image structure of DescribeImages for one row. */
static cJSON *
image_item(struct aws_call *call, const struct ec2_image_row *r)
{
    cJSON *item = cJSON_CreateObject();
    char created[32];
    time_format_iso8601(r->created_ms, created);
    cJSON_AddStringToObject(item, "ImageId", r->id);
    cJSON_AddStringToObject(item, "ImageLocation", r->location);
    cJSON_AddStringToObject(item, "State", r->state);
    cJSON_AddStringToObject(item, "OwnerId", r->owner_id);
    /* CreationDate is a string member in the model, not a timestamp. */
    cJSON_AddStringToObject(item, "CreationDate", created);
    cJSON_AddBoolToObject(item, "Public", r->public);
    cJSON_AddStringToObject(item, "Architecture", r->architecture);
    cJSON_AddStringToObject(item, "ImageType", "machine");
    if (r->owner_alias[0])
        cJSON_AddStringToObject(item, "ImageOwnerAlias", r->owner_alias);
    cJSON_AddStringToObject(item, "Name", r->name);
    if (r->description)
        cJSON_AddStringToObject(item, "Description", r->description);
    cJSON_AddStringToObject(item, "RootDeviceType", "ebs");
    cJSON_AddStringToObject(item, "RootDeviceName", r->root_device_name);
    cJSON_AddStringToObject(item, "VirtualizationType", "hvm");
    cJSON_AddStringToObject(item, "Hypervisor", "xen");
    cJSON_AddStringToObject(item, "PlatformDetails", "Linux/UNIX");
    cJSON_AddStringToObject(item, "UsageOperation", "RunInstances");
    cJSON *bdm = cJSON_Parse(r->block_devices ? r->block_devices : "[]");
    cJSON_AddItemToObject(item, "BlockDeviceMappings", bdm ? bdm : cJSON_CreateArray());
    cJSON_AddBoolToObject(item, "EnaSupport", r->ena_support);
    if (r->source_instance_id[0])
        cJSON_AddStringToObject(item, "SourceInstanceId", r->source_instance_id);
    ec2_tags_add_to(call, r->id, item);
    return item;
}

static bool
owner_matches(struct aws_call *call, const cJSON *owners, const struct ec2_image_row *r)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, owners)
    {
        if (!cJSON_IsString(o))
            continue;
        const char *v = o->valuestring;
        if (strcmp(v, "self") == 0 && strcmp(r->owner_id, call->account_id) == 0)
            return true;
        /* Aliases (amazon, aws-marketplace, aws-backup-vault) match the alias; anything
           else is an account id. */
        if (r->owner_alias[0] && strcmp(v, r->owner_alias) == 0)
            return true;
        if (strcmp(v, r->owner_id) == 0)
            return true;
    }
    return false;
}

static bool
list_has(const cJSON *list, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
            return true;
    }
    return false;
}

struct describe_ctx {
    struct aws_call *call;
    const cJSON *ids;     /* ImageIds or NULL */
    const cJSON *owners;  /* Owners or NULL */
    const cJSON *filters; /* Filters or NULL */
    cJSON *all;           /* the items kept */
    struct aws_err *err;  /* set when a filter is invalid */
};

static int
describe_one(void *arg, const struct ec2_image_row *r)
{
    struct describe_ctx *c = arg;
    if (!image_visible(c->call, r))
        return 0;
    if (c->ids && !list_has(c->ids, r->id))
        return 0;
    if (c->owners && cJSON_GetArraySize(c->owners) > 0 && !owner_matches(c->call, c->owners, r))
        return 0;
    cJSON *item = image_item(c->call, r);
    int m = ec2_filter_match(image_filters, ARRAY_SIZE(image_filters), c->filters, item, c->err);
    if (m == 1)
        cJSON_AddItemToArray(c->all, item);
    else
        cJSON_Delete(item);
    return m < 0 ? -1 : 0;
}

/*
 * Explicit ids that name no image are an error; one that was deregistered is not, it just
 * is not listed (AWS's DescribeImages "returns an empty result" for a recently deregistered
 * AMI, hashicorp/terraform-provider-aws#47945, boto/botocore#2194).
 */
static int
check_explicit_ids(struct aws_call *call, const cJSON *ids, struct aws_err *err)
{
    const cJSON *v;
    struct buf missing = BUF_INIT;
    size_t n_missing = 0;
    int rc = 0;
    cJSON_ArrayForEach(v, ids)
    {
        if (!cJSON_IsString(v))
            continue;
        if (!ec2_id_well_formed(v->valuestring, "ami")) {
            rc = malformed(err, v->valuestring);
            break;
        }
        struct ec2_image_row r;
        int found = ec2_store_image_get(call_db(call), call->region, v->valuestring, &r);
        if (found < 0) {
            rc = ec2_db_failed(err);
            break;
        }
        if (found) {
            bool visible = image_visible(call, &r);
            ec2_store_image_release(&r);
            if (visible)
                continue;
        }
        if (n_missing++)
            buf_adds(&missing, ", ");
        buf_adds(&missing, v->valuestring);
    }
    if (rc == 0 && n_missing == 1)
        rc = not_found(err, missing.data);
    else if (rc == 0 && n_missing > 1)
        /* The plural by analogy with InvalidInstanceID.NotFound's "The instance IDs 'a, b'
           do not exist"; not confirmed for images. */
        rc = aws_err_setx(err, 400, "InvalidAMIID.NotFound", true,
                          "The image ids '[%s]' do not exist", missing.data);
    buf_release(&missing);
    return rc;
}

int
ec2_describe_images(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    if (ensure_builtins(call, err) < 0)
        return -1;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "ImageIds");
    if (ids && check_explicit_ids(call, ids, err) < 0)
        return -1;
    struct describe_ctx c = {
        .call = call,
        .ids = ids,
        .owners = cJSON_GetObjectItemCaseSensitive(in, "Owners"),
        .filters = cJSON_GetObjectItemCaseSensitive(in, "Filters"),
        .all = cJSON_CreateArray(),
        .err = err,
    };
    aws_err_clear(err);
    if (ec2_store_images_each(call_db(call), call->region, describe_one, &c) < 0) {
        cJSON_Delete(c.all);
        return err->code ? -1 : ec2_db_failed(err);
    }
    /* DescribeImages' MaxResults: "You can specify a value between 5 and 1000" (EC2 API
       reference). */
    return ec2_paginate(c.all, in, out, "Images", 5, 1000, err);
}

/* ---- RegisterImage ---- */

int
ec2_register_image(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    const char *name = get_string(in, "Name");
    if (!name)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter name");
    const char *location = get_string(in, "ImageLocation");
    /* fogbank's reading of ImageLocation: an absolute host path names a directory or a
       tarball whose files become the image's layer; anything else (an S3 manifest) is only
       reported back, and the image adds no layer. */
    bool local = location && location[0] == '/';
    if (local && check_import_path(location, "ImageLocation", err) < 0)
        return -1;
    const cJSON *ena = cJSON_GetObjectItemCaseSensitive(in, "EnaSupport");
    const cJSON *bdm = cJSON_GetObjectItemCaseSensitive(in, "BlockDeviceMappings");
    struct image_spec s = {
        .region = call->region,
        .name = name,
        .description = get_string(in, "Description"),
        .location = location,
        /* AWS defaults EBS-backed registrations to i386; fogbank says x86_64, what every
           instance type it offers runs. */
        .architecture = get_string(in, "Architecture"),
        .root_device_name = get_string(in, "RootDeviceName"),
        .block_devices = cJSON_GetArraySize(bdm) > 0 ? bdm : NULL,
        .ena_support = ena ? cJSON_IsTrue(ena) : true,
        .import_path = local ? location : NULL,
        .import_flags = LAYER_SRC_CLIENT,
    };
    char id[32];
    if (image_create(call, &s, id, sizeof(id), err) < 0)
        return -1;
    const cJSON *specs = cJSON_GetObjectItemCaseSensitive(in, "TagSpecifications");
    if (specs && ec2_tags_apply_specs(call, specs, "image", id, err) < 0) {
        /* The row goes with the rolled-back transaction; the files are ours to remove. */
        if (local && call->app->data_dir)
            remove_image_dir(call, id);
        return -1;
    }
    cJSON_AddStringToObject(out, "ImageId", id);
    return 0;
}

/* ---- DeregisterImage ---- */

int
ec2_deregister_image(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    const char *id = get_string(in, "ImageId");
    if (!id)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter ImageId");
    struct ec2_image_row r;
    if (lookup(call, id, &r, err) < 0)
        return -1;
    int rc = 0;
    if (strcmp(r.state, "deregistered") == 0)
        rc = unavailable(err, id);
    else if (strcmp(r.owner_id, call->account_id) != 0)
        /* Someone else's public image: "AuthFailure ... Not authorized for
           image:ami-7466801b" (cloudcaptainsh/cloudcaptain#66). */
        rc = aws_err_setx(err, 400, "AuthFailure", true, "Not authorized for image:%s", id);
    /* Launch templates and Auto Scaling groups that name the image do not stop it: AWS
       checks nothing at deregistration, launches from them fail later. Running instances
       keep running, and the row and layer stay for them and for images made from them. */
    else if (ec2_store_image_deregister(call_db(call), id, call->now_ms) < 0)
        rc = ec2_db_failed(err);
    if (rc == 0) {
        ec2_tags_drop(call, id);
        cJSON_AddBoolToObject(out, "Return", true);
    }
    ec2_store_image_release(&r);
    return rc;
}

/* ---- fogbank ctl image import ---- */

/* A default name from the file name: "/x/web-v2.tar.gz" -> "web-v2". */
static void
name_from_path(const char *path, struct buf *out)
{
    const char *base = strrchr(path, '/');
    base = base && base[1] ? base + 1 : path;
    size_t n = strlen(base);
    while (n > 1 && base[n - 1] == '/')
        n--;
    static const char *const exts[] = { ".tar.gz", ".tgz", ".tar" };
    for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strncmp(base + n - e, exts[i], e) == 0) {
            n -= e;
            break;
        }
    }
    buf_reset(out);
    for (size_t i = 0; i < n && out->len < 128; i++) {
        char c = base[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("()[] ./-'@_", c) != NULL;
        buf_addc(out, ok ? c : '_');
    }
    if (out->len < 3) {
        struct buf tmp = BUF_INIT;
        buf_addf(&tmp, "imported-%s", out->data);
        buf_reset(out);
        buf_adds(out, tmp.data);
        buf_release(&tmp);
    }
}

int
ec2_images_import(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *path = get_string(in, "path");
    if (!path || !*path)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter path");
    if (check_import_path(path, "path", err) < 0)
        return -1;
    const char *region = get_string(in, "region");
    if (region && !ec2_region_get(region))
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "Invalid region: %s", region);
    /* The image belongs to the region asked for, else the call's. */
    struct aws_call c = *call;
    if (region)
        c.region = region;
    struct buf name = BUF_INIT;
    const char *given = get_string(in, "name");
    if (given)
        buf_adds(&name, given);
    else
        name_from_path(path, &name);
    struct image_spec s = {
        .region = c.region,
        .name = name.data,
        .description = get_string(in, "description"),
        .location = path,
        .ena_support = true,
        .import_path = path,
        .import_flags = LAYER_SRC_CLIENT,
    };
    char id[32];
    int rc = image_create(&c, &s, id, sizeof(id), err);
    if (rc == 0) {
        cJSON_AddStringToObject(out, "ImageId", id);
        cJSON_AddStringToObject(out, "Name", name.data);
        cJSON_AddStringToObject(out, "Region", c.region);
    }
    buf_release(&name);
    return rc;
}
