/*
 * EC2 images and launch templates, driven in-process: API calls through router_handle
 * (in-memory state, frozen clock, fixed seed, a temporary data directory), the internal
 * look-ups (ec2_image_get, ec2_image_create_from_disk, ec2_images_import,
 * ec2_launch_template_resolve) called directly, and the on-disk layers checked with stat.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/ids.h"
#include "emulator/model.h"
#include "emulator/protocol/protocol.h"
#include "emulator/router.h"
#include "services/ec2/ec2_internal.h"
#include "services/ec2/layers.h"
#include "state/db.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define AUTH(region)                                                                               \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/" region "/ec2/aws4_request, "                      \
    "SignedHeaders=host, Signature=00"
#define FORM "application/x-www-form-urlencoded; charset=utf-8"
#define V    "&Version=2016-11-15"

struct fx {
    struct app *app;  /* the fogbank under test */
    char scratch[64]; /* inputs the tests build (directories, tarballs) */
};

static int
setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    char errbuf[256];
    f->app = xcalloc(1, sizeof(*f->app));
    f->app->cfg.account_id = "123456789012";
    f->app->db = db_open(":memory:", errbuf, sizeof(errbuf));
    assert_non_null(f->app->db);
    f->app->clock = vclock_new(NULL, 0, 1795000000000LL);
    f->app->ids = ids_new(42);
    char dir[] = "/tmp/fogbank-img-data-XXXXXX";
    assert_non_null(mkdtemp(dir));
    f->app->data_dir = xstrdup(dir);
    snprintf(f->scratch, sizeof(f->scratch), "/tmp/fogbank-img-in-XXXXXX");
    assert_non_null(mkdtemp(f->scratch));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(layer_remove_tree(f->app->data_dir), 0);
    assert_int_equal(layer_remove_tree(f->scratch), 0);
    free(f->app->data_dir);
    db_close(f->app->db);
    vclock_free(f->app->clock);
    ids_free(f->app->ids);
    free(f->app);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* One EC2 API call (form body without Version) in region; the caller releases resp. */
static void
ec2_in(struct app *app, struct http_resp *resp, const char *auth, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, V);
    struct http_header h[2] = { { "Authorization", auth }, { "Content-Type", FORM } };
    struct http_req req = { .method = "POST",
                            .target = "/",
                            .headers = h,
                            .n_headers = 2,
                            .body = body.data,
                            .body_len = body.len,
                            .peer = "127.0.0.1" };
    http_resp_init(resp);
    router_handle(app, &req, resp);
    buf_release(&body);
}

#define ec2(app, resp, ...) ec2_in(app, resp, AUTH("us-east-1"), __VA_ARGS__)

static bool
has(const struct http_resp *r, const char *s)
{
    return strstr(r->body.data, s) != NULL;
}

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The text of the first <tag> of the body into out. */
static void
xml_get(const struct http_resp *r, const char *tag, char *out, size_t outsz)
{
    char open[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    const char *p = strstr(r->body.data, open);
    assert_non_null(p);
    p += strlen(open);
    size_t n = strcspn(p, "<");
    snprintf(out, outsz, "%.*s", (int)n, p);
}

static void
expect_error(struct http_resp *r, int status, const char *code)
{
    char want[128];
    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    if (r->status != status || !has(r, want))
        fail_msg("expected %d %s, got %d: %s", status, code, r->status, r->body.data);
}

static void
expect_ok(struct http_resp *r)
{
    if (r->status != 200)
        fail_msg("expected 200, got %d: %s", r->status, r->body.data);
}

static struct aws_call
mkcall(struct app *app)
{
    return (struct aws_call){ .app = app,
                              .service = "ec2",
                              .op = "test",
                              .region = "us-east-1",
                              .account_id = app->cfg.account_id,
                              .request_id = "test-request",
                              .now_ms = vclock_now(app->clock) };
}

static void
write_file(const char *dir, const char *rel, const char *content)
{
    struct buf p = BUF_INIT;
    buf_addf(&p, "%s/%s", dir, rel);
    char *slash = strrchr(p.data, '/');
    *slash = '\0';
    assert_int_equal(layer_mkdir_p(p.data, 0755), 0);
    *slash = '/';
    FILE *fp = fopen(p.data, "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
    buf_release(&p);
}

static void
path_of(struct buf *p, const char *dir, const char *rel)
{
    buf_reset(p);
    buf_addf(p, "%s/%s", dir, rel);
}

static bool
is_regular(const char *dir, const char *rel)
{
    struct buf p = BUF_INIT;
    path_of(&p, dir, rel);
    struct stat st;
    bool ok = lstat(p.data, &st) == 0 && S_ISREG(st.st_mode);
    buf_release(&p);
    return ok;
}

static bool
is_whiteout(const char *dir, const char *rel)
{
    struct buf p = BUF_INIT;
    path_of(&p, dir, rel);
    bool ok = layer_is_whiteout(p.data);
    buf_release(&p);
    return ok;
}

static bool
exists(const char *dir, const char *rel)
{
    struct buf p = BUF_INIT;
    path_of(&p, dir, rel);
    struct stat st;
    bool ok = lstat(p.data, &st) == 0;
    buf_release(&p);
    return ok;
}

static void
make_whiteout(const char *dir, const char *rel)
{
    struct buf p = BUF_INIT;
    path_of(&p, dir, rel);
    assert_int_equal(mknod(p.data, S_IFCHR | 0000, makedev(0, 0)), 0);
    buf_release(&p);
}

/* The number of entries in <data dir>/images (0 when it does not exist). */
static int
image_dirs(struct app *app)
{
    struct buf p = BUF_INIT;
    buf_addf(&p, "%s/images", app->data_dir);
    int n = 0;
    struct stat st;
    if (stat(p.data, &st) == 0) {
        DIR *d = opendir(p.data);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.')
                n++;
        closedir(d);
    }
    buf_release(&p);
    return n;
}

/* RegisterImage; returns the id in out. */
static void
register_image(struct app *app, const char *name, const char *location, char *out, size_t outsz)
{
    struct http_resp r;
    if (location)
        ec2(app, &r, "Action=RegisterImage&Name=%s&ImageLocation=%s", name, location);
    else
        ec2(app, &r, "Action=RegisterImage&Name=%s", name);
    expect_ok(&r);
    xml_get(&r, "imageId", out, outsz);
    http_resp_release(&r);
}

/* ---- built-in images, DescribeImages ---- */

static void
test_describe_images_shows_two_public_amazon_builtins(void **state)
{
    struct fx *f = *state;
    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeImages");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 2);
    assert_true(has(&r, "<name>al2023-ami-fogbank-x86_64</name>"));
    assert_true(has(&r, "<name>ubuntu-jammy-22.04-amd64-server-fogbank</name>"));
    assert_int_equal(count(r.body.data, "<imageOwnerId>137112412989</imageOwnerId>"), 2);
    assert_int_equal(count(r.body.data, "<imageOwnerAlias>amazon</imageOwnerAlias>"), 2);
    assert_int_equal(count(r.body.data, "<isPublic>true</isPublic>"), 2);
    assert_true(has(&r, "<creationDate>2025-01-01T00:00:00.000Z</creationDate>"));
    assert_true(has(&r, "<imageState>available</imageState>"));
    assert_true(has(&r, "<imageType>machine</imageType>"));
    assert_true(has(&r, "<rootDeviceType>ebs</rootDeviceType>"));
    assert_true(has(&r, "<virtualizationType>hvm</virtualizationType>"));
    assert_true(has(&r, "<hypervisor>xen</hypervisor>"));
    assert_true(has(&r, "<platformDetails>Linux/UNIX</platformDetails>"));
    assert_true(has(&r, "<usageOperation>RunInstances</usageOperation>"));
    assert_true(has(&r, "<enaSupport>true</enaSupport>"));
    assert_true(has(&r, "<deviceName>/dev/xvda</deviceName>"));
    char id[32];
    xml_get(&r, "imageId", id, sizeof(id));
    assert_true(ec2_id_well_formed(id, "ami"));
    http_resp_release(&r);

    /* Another region: its own built-ins, other ids. */
    ec2_in(f->app, &r, AUTH("eu-west-1"), "Action=DescribeImages");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 2);
    assert_null(strstr(r.body.data, id));
    http_resp_release(&r);
}

static void
test_builtin_ids_are_stable_and_survive_a_reset(void **state)
{
    struct fx *f = *state;
    struct http_resp r;
    char before[32], after[32];
    ec2(f->app, &r, "Action=DescribeImages&Filter.1.Name=name&Filter.1.Value.1=al2023-*");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 1);
    xml_get(&r, "imageId", before, sizeof(before));
    http_resp_release(&r);
    assert_int_equal(db_reset(f->app->db), 0);
    ec2(f->app, &r, "Action=DescribeImages&Filter.1.Name=name&Filter.1.Value.1=al2023-*");
    expect_ok(&r);
    xml_get(&r, "imageId", after, sizeof(after));
    http_resp_release(&r);
    assert_string_equal(before, after);

    /* A launch can name a built-in before anything described the images. */
    assert_int_equal(db_reset(f->app->db), 0);
    struct aws_call c = mkcall(f->app);
    struct ec2_image_info info;
    struct aws_err err;
    assert_int_equal(ec2_image_get(&c, after, &info, &err), 0);
    assert_null(info.layers[0]);
    assert_null(info.boot_script);
    assert_string_equal(info.state, "available");
    assert_string_equal(info.architecture, "x86_64");
    assert_string_equal(info.root_device_name, "/dev/xvda");
    ec2_image_info_release(&info);
}

static void
test_describe_images_owners(void **state)
{
    struct fx *f = *state;
    char mine[32];
    register_image(f->app, "mine-1", NULL, mine, sizeof(mine));
    struct http_resp r;

    ec2(f->app, &r, "Action=DescribeImages&Owner.1=self");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 1);
    assert_true(has(&r, mine));
    assert_true(has(&r, "<imageOwnerId>123456789012</imageOwnerId>"));
    assert_true(has(&r, "<isPublic>false</isPublic>"));
    assert_true(has(&r, "<imageLocation>123456789012/mine-1</imageLocation>"));
    assert_null(strstr(r.body.data, "<imageOwnerAlias>"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&Owner.1=amazon");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 2);
    assert_null(strstr(r.body.data, mine));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&Owner.1=137112412989&Owner.2=self");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 3);
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&Owner.1=123456789012");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 1);
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&Owner.1=aws-marketplace");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 0);
    http_resp_release(&r);

    /* ExecutableBy is accepted and ignored. */
    ec2(f->app, &r, "Action=DescribeImages&ExecutableBy.1=all&Owner.1=self");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 1);
    http_resp_release(&r);
}

static void
test_describe_images_filters(void **state)
{
    struct fx *f = *state;
    struct http_resp r;
    ec2(f->app, &r,
        "Action=RegisterImage&Name=web-v1&Description=the+web&Architecture=arm64"
        "&TagSpecification.1.ResourceType=image&TagSpecification.1.Tag.1.Key=Env"
        "&TagSpecification.1.Tag.1.Value=prod");
    expect_ok(&r);
    char web[32];
    xml_get(&r, "imageId", web, sizeof(web));
    http_resp_release(&r);

    static const struct {
        const char *query;
        int n;
    } cases[] = {
        { "Filter.1.Name=name&Filter.1.Value.1=*fogbank*", 2 },
        { "Filter.1.Name=name&Filter.1.Value.1=web-v?", 1 },
        { "Filter.1.Name=is-public&Filter.1.Value.1=false", 1 },
        { "Filter.1.Name=is-public&Filter.1.Value.1=true", 2 },
        { "Filter.1.Name=architecture&Filter.1.Value.1=arm64", 1 },
        { "Filter.1.Name=state&Filter.1.Value.1=available", 3 },
        { "Filter.1.Name=state&Filter.1.Value.1=pending", 0 },
        { "Filter.1.Name=owner-alias&Filter.1.Value.1=amazon", 2 },
        { "Filter.1.Name=owner-id&Filter.1.Value.1=123456789012", 1 },
        { "Filter.1.Name=root-device-name&Filter.1.Value.1=/dev/sda1", 1 },
        { "Filter.1.Name=tag:Env&Filter.1.Value.1=prod", 1 },
        { "Filter.1.Name=tag:Env&Filter.1.Value.1=dev", 0 },
        { "Filter.1.Name=description&Filter.1.Value.1=the*", 1 },
        { "Filter.1.Name=image-id&Filter.1.Value.1=ami-*&Filter.2.Name=is-public"
          "&Filter.2.Value.1=false",
          1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        ec2(f->app, &r, "Action=DescribeImages&%s", cases[i].query);
        expect_ok(&r);
        if (count(r.body.data, "<imageId>") != cases[i].n)
            fail_msg("%s: expected %d images: %s", cases[i].query, cases[i].n, r.body.data);
        http_resp_release(&r);
    }
    ec2(f->app, &r, "Action=DescribeImages&Filter.1.Name=tag:Env&Filter.1.Value.1=prod");
    assert_true(has(&r, "<key>Env</key>"));
    assert_true(has(&r, web));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&Filter.1.Name=colour&Filter.1.Value.1=red");
    expect_error(&r, 400, "InvalidParameterValue");
    assert_true(has(&r, "colour"));
    http_resp_release(&r);
}

static void
test_describe_images_by_id(void **state)
{
    struct fx *f = *state;
    char id[32];
    register_image(f->app, "by-id", NULL, id, sizeof(id));
    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=%s", id);
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 1);
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=ami-00000000000000001");
    expect_error(&r, 400, "InvalidAMIID.NotFound");
    assert_true(has(&r, "[ami-00000000000000001]"));
    assert_true(has(&r, "does not exist"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=ami-00000000000000001&ImageId.2=ami-0000000f");
    expect_error(&r, 400, "InvalidAMIID.NotFound");
    assert_true(has(&r, "ami-00000000000000001, ami-0000000f"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=banana");
    expect_error(&r, 400, "InvalidAMIID.Malformed");
    assert_true(has(&r, "banana"));
    http_resp_release(&r);

    /* Deregistered: no error, just not listed (AWS's eventual disappearance). */
    ec2(f->app, &r, "Action=DeregisterImage&ImageId=%s", id);
    expect_ok(&r);
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=%s", id);
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 0);
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeImages&DryRun=true");
    expect_error(&r, 412, "DryRunOperation");
    http_resp_release(&r);
}

static void
test_describe_images_paginates(void **state)
{
    struct fx *f = *state;
    char id[32];
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof(name), "page-%d", i);
        register_image(f->app, name, NULL, id, sizeof(id));
    }
    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeImages&MaxResults=5");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 5);
    char token[128];
    xml_get(&r, "nextToken", token, sizeof(token));
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DescribeImages&MaxResults=5&NextToken=%s", token);
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<imageId>"), 3);
    assert_null(strstr(r.body.data, "<nextToken>"));
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DescribeImages&MaxResults=4");
    expect_error(&r, 400, "InvalidParameterValue");
    http_resp_release(&r);
}

/* ---- RegisterImage ---- */

static void
test_register_image_without_location_adds_no_layer(void **state)
{
    struct fx *f = *state;
    struct http_resp r;
    ec2(f->app, &r,
        "Action=RegisterImage&Name=bare&RootDeviceName=/dev/sda1&EnaSupport=false"
        "&BlockDeviceMapping.1.DeviceName=/dev/sda1&BlockDeviceMapping.1.Ebs.VolumeSize=20");
    expect_ok(&r);
    char id[32];
    xml_get(&r, "imageId", id, sizeof(id));
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=%s", id);
    expect_ok(&r);
    assert_true(has(&r, "<rootDeviceName>/dev/sda1</rootDeviceName>"));
    assert_true(has(&r, "<volumeSize>20</volumeSize>"));
    assert_true(has(&r, "<enaSupport>false</enaSupport>"));
    assert_true(has(&r, "<architecture>x86_64</architecture>"));
    http_resp_release(&r);
    struct aws_call c = mkcall(f->app);
    struct ec2_image_info info;
    struct aws_err err;
    assert_int_equal(ec2_image_get(&c, id, &info, &err), 0);
    assert_null(info.layers[0]);
    ec2_image_info_release(&info);
    assert_int_equal(image_dirs(f->app), 0);

    /* An S3-style manifest location is only reported. */
    ec2(f->app, &r, "Action=RegisterImage&Name=bundle&ImageLocation=my-bucket/image.manifest.xml");
    expect_ok(&r);
    xml_get(&r, "imageId", id, sizeof(id));
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=%s", id);
    assert_true(has(&r, "<imageLocation>my-bucket/image.manifest.xml</imageLocation>"));
    http_resp_release(&r);
}

static void
test_register_image_from_a_directory_copies_its_files(void **state)
{
    struct fx *f = *state;
    struct buf src = BUF_INIT;
    buf_addf(&src, "%s/tree", f->scratch);
    write_file(src.data, "srv/app/index.html", "hello\n");
    write_file(src.data, "etc/fogbank/boot", "#!/bin/sh\necho booted\n");
    char id[32];
    register_image(f->app, "from-dir", src.data, id, sizeof(id));

    struct aws_call c = mkcall(f->app);
    struct ec2_image_info info;
    struct aws_err err;
    assert_int_equal(ec2_image_get(&c, id, &info, &err), 0);
    assert_non_null(info.layers[0]);
    assert_null(info.layers[1]);
    struct buf want = BUF_INIT;
    buf_addf(&want, "%s/images/%s/layer", f->app->data_dir, id);
    assert_string_equal(info.layers[0], want.data);
    assert_true(is_regular(info.layers[0], "srv/app/index.html"));
    buf_addf(&want, "/etc/fogbank/boot");
    assert_non_null(info.boot_script);
    assert_string_equal(info.boot_script, want.data);
    ec2_image_info_release(&info);

    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=%s", id);
    buf_reset(&want);
    buf_addf(&want, "<imageLocation>%s</imageLocation>", src.data);
    assert_true(has(&r, want.data));
    http_resp_release(&r);
    buf_release(&want);
    buf_release(&src);
}

static void
test_register_image_errors(void **state)
{
    struct fx *f = *state;
    char id[32];
    register_image(f->app, "taken", NULL, id, sizeof(id));
    struct http_resp r;
    ec2(f->app, &r, "Action=RegisterImage&Name=taken");
    expect_error(&r, 400, "InvalidAMIName.Duplicate");
    assert_true(has(&r, "AMI name taken is already in use by AMI"));
    assert_true(has(&r, id));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=RegisterImage&Name=no%%2Aglobs");
    expect_error(&r, 400, "InvalidAMIName.Malformed");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=RegisterImage&Description=nameless");
    expect_error(&r, 400, "MissingParameter");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=RegisterImage&Name=nowhere&ImageLocation=/no/such/dir");
    expect_error(&r, 400, "InvalidParameterValue");
    assert_true(has(&r, "/no/such/dir"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=RegisterImage&Name=devnull&ImageLocation=/dev/null");
    expect_error(&r, 400, "InvalidParameterValue");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=RegisterImage&Name=dry&DryRun=true");
    expect_error(&r, 412, "DryRunOperation");
    http_resp_release(&r);

    /* Other accounts' names do not collide, and neither do other regions'. */
    ec2_in(f->app, &r, AUTH("us-west-2"), "Action=RegisterImage&Name=taken");
    expect_ok(&r);
    http_resp_release(&r);
    assert_int_equal(image_dirs(f->app), 0);
}

/* ---- DeregisterImage ---- */

static void
test_deregister_image(void **state)
{
    struct fx *f = *state;
    struct buf src = BUF_INIT;
    buf_addf(&src, "%s/tree", f->scratch);
    write_file(src.data, "file", "x");
    char id[32];
    register_image(f->app, "short-lived", src.data, id, sizeof(id));
    struct http_resp r;

    /* A launch template naming the image does not stop the deregistration (AWS checks
       nothing; launches from the template fail later). */
    ec2(f->app, &r,
        "Action=CreateLaunchTemplate&LaunchTemplateName=uses-it&LaunchTemplateData.ImageId=%s", id);
    expect_ok(&r);
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DeregisterImage&ImageId=%s", id);
    expect_ok(&r);
    assert_true(has(&r, "<return>true</return>"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DeregisterImage&ImageId=%s", id);
    expect_error(&r, 400, "InvalidAMIID.Unavailable");
    assert_true(has(&r, "is no longer available"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DeregisterImage&ImageId=ami-0123456789abcdef0");
    expect_error(&r, 400, "InvalidAMIID.NotFound");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DeregisterImage&ImageId=i-0123456789abcdef0");
    expect_error(&r, 400, "InvalidAMIID.Malformed");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DeregisterImage");
    expect_error(&r, 400, "MissingParameter");
    http_resp_release(&r);

    /* Amazon's images are not ours to deregister. */
    ec2(f->app, &r, "Action=DescribeImages&Owner.1=amazon");
    char builtin[32];
    xml_get(&r, "imageId", builtin, sizeof(builtin));
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DeregisterImage&ImageId=%s", builtin);
    expect_error(&r, 400, "AuthFailure");
    http_resp_release(&r);

    /* The template still answers, the name is free again, the layer stays for the
       instances that may still boot from it, and new launches are refused. */
    ec2(f->app, &r, "Action=DescribeLaunchTemplates&LaunchTemplateName.1=uses-it");
    expect_ok(&r);
    http_resp_release(&r);
    char again[32];
    register_image(f->app, "short-lived", NULL, again, sizeof(again));
    assert_string_not_equal(again, id);
    struct aws_call c = mkcall(f->app);
    struct ec2_image_info info;
    struct aws_err err;
    assert_int_equal(ec2_image_get(&c, id, &info, &err), -1);
    assert_string_equal(err.code, "InvalidAMIID.Unavailable");
    assert_int_equal(ec2_image_get_for_boot(&c, id, &info, &err), 0);
    assert_non_null(info.layers[0]);
    assert_true(is_regular(info.layers[0], "file"));
    assert_string_equal(info.state, "deregistered");
    ec2_image_info_release(&info);
    buf_release(&src);
}

/* ---- CreateImage's copy of a disk ---- */

static void
test_create_from_disk_keeps_whiteouts_opaque_dirs_and_symlinks(void **state)
{
    struct fx *f = *state;
    struct buf base = BUF_INIT, upper = BUF_INIT;
    buf_addf(&base, "%s/base", f->scratch);
    write_file(base.data, "etc/fogbank/boot", "#!/bin/sh\n");
    write_file(base.data, "etc/motd", "base\n");
    write_file(base.data, "var/cache/old", "old\n");
    char parent[32];
    register_image(f->app, "base", base.data, parent, sizeof(parent));

    buf_addf(&upper, "%s/upper", f->scratch);
    write_file(upper.data, "srv/new.txt", "new\n");
    write_file(upper.data, "var/cache/fresh", "fresh\n");
    write_file(upper.data, "etc/placeholder", "");
    make_whiteout(upper.data, "etc/motd");
    struct buf p = BUF_INIT;
    path_of(&p, upper.data, "var/cache");
    assert_int_equal(setxattr(p.data, "trusted.overlay.opaque", "y", 1, 0), 0);
    path_of(&p, upper.data, "passwd-link");
    assert_int_equal(symlink("/etc/passwd", p.data), 0);
    path_of(&p, upper.data, "escape");
    assert_int_equal(symlink("/", p.data), 0);

    struct aws_call c = mkcall(f->app);
    struct aws_err err;
    char id[32];
    assert_int_equal(ec2_image_create_from_disk(&c, parent, upper.data, "snapshot-1",
                                                "made from i-1", "i-0123456789abcdef0", id,
                                                sizeof(id), &err),
                     0);
    struct ec2_image_info info;
    assert_int_equal(ec2_image_get(&c, id, &info, &err), 0);
    assert_non_null(info.layers[0]);
    assert_non_null(info.layers[1]);
    assert_null(info.layers[2]);
    const char *top = info.layers[0];
    assert_true(is_regular(top, "srv/new.txt"));
    assert_true(is_whiteout(top, "etc/motd"));
    assert_true(is_regular(top, "var/cache/fresh"));
    path_of(&p, top, "var/cache");
    char v[4] = { 0 };
    assert_int_equal(getxattr(p.data, "trusted.overlay.opaque", v, sizeof(v)), 1);
    assert_int_equal(v[0], 'y');
    /* Symlinks are copied as links, never followed. */
    path_of(&p, top, "passwd-link");
    struct stat st;
    assert_int_equal(lstat(p.data, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char target[64] = { 0 };
    assert_int_equal(readlink(p.data, target, sizeof(target) - 1), 11);
    assert_string_equal(target, "/etc/passwd");
    path_of(&p, top, "escape");
    assert_int_equal(lstat(p.data, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    /* The boot script comes from the parent's layer. */
    assert_non_null(info.boot_script);
    assert_non_null(strstr(info.boot_script, parent));
    ec2_image_info_release(&info);

    /* The instance keeps its disk (a copy, not a move). */
    assert_true(is_regular(upper.data, "srv/new.txt"));
    assert_true(is_whiteout(upper.data, "etc/motd"));

    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeImages&ImageId.1=%s", id);
    expect_ok(&r);
    assert_true(has(&r, "<sourceInstanceId>i-0123456789abcdef0</sourceInstanceId>"));
    assert_true(has(&r, "<description>made from i-1</description>"));
    assert_true(has(&r, "<imageLocation>123456789012/snapshot-1</imageLocation>"));
    http_resp_release(&r);

    /* Errors: a taken name (nothing left on disk), an unknown source. */
    int dirs = image_dirs(f->app);
    assert_int_equal(ec2_image_create_from_disk(&c, parent, upper.data, "snapshot-1", NULL,
                                                "i-0123456789abcdef0", id, sizeof(id), &err),
                     -1);
    assert_string_equal(err.code, "InvalidAMIName.Duplicate");
    assert_int_equal(ec2_image_create_from_disk(&c, "ami-0000000000000000f", upper.data,
                                                "snapshot-2", NULL, "i-0123456789abcdef0", id,
                                                sizeof(id), &err),
                     -1);
    assert_string_equal(err.code, "InvalidAMIID.NotFound");
    assert_int_equal(image_dirs(f->app), dirs);
    buf_release(&p);
    buf_release(&base);
    buf_release(&upper);
}

static void
test_a_whiteout_hides_the_boot_script_of_the_image_below(void **state)
{
    struct fx *f = *state;
    struct buf base = BUF_INIT, upper = BUF_INIT;
    buf_addf(&base, "%s/base", f->scratch);
    write_file(base.data, "etc/fogbank/boot", "#!/bin/sh\n");
    char parent[32];
    register_image(f->app, "with-boot", base.data, parent, sizeof(parent));
    buf_addf(&upper, "%s/upper", f->scratch);
    write_file(upper.data, "etc/fogbank/other", "x");
    make_whiteout(upper.data, "etc/fogbank/boot");
    struct aws_call c = mkcall(f->app);
    struct aws_err err;
    char id[32];
    assert_int_equal(ec2_image_create_from_disk(&c, parent, upper.data, "no-boot", NULL,
                                                "i-0123456789abcdef0", id, sizeof(id), &err),
                     0);
    struct ec2_image_info info;
    assert_int_equal(ec2_image_get(&c, id, &info, &err), 0);
    assert_null(info.boot_script);
    ec2_image_info_release(&info);
    buf_release(&base);
    buf_release(&upper);
}

static void
test_a_deep_stack_is_squashed_into_one_layer(void **state)
{
    struct fx *f = *state;
    struct buf base = BUF_INIT, upper = BUF_INIT;
    buf_addf(&base, "%s/base", f->scratch);
    write_file(base.data, "a.txt", "a");
    write_file(base.data, "b.txt", "b");
    char prev[32];
    register_image(f->app, "gen-0", base.data, prev, sizeof(prev));
    struct aws_call c = mkcall(f->app);
    struct aws_err err;
    for (int i = 1; i <= EC2_MAX_LAYERS; i++) {
        buf_reset(&upper);
        buf_addf(&upper, "%s/upper-%d", f->scratch, i);
        char rel[32];
        snprintf(rel, sizeof(rel), "gen-%d.txt", i);
        write_file(upper.data, rel, "g");
        if (i == 1)
            make_whiteout(upper.data, "a.txt");
        char name[32], id[32];
        snprintf(name, sizeof(name), "gen-%d", i);
        assert_int_equal(ec2_image_create_from_disk(&c, prev, upper.data, name, NULL,
                                                    "i-0123456789abcdef0", id, sizeof(id), &err),
                         0);
        struct ec2_image_info info;
        assert_int_equal(ec2_image_get(&c, id, &info, &err), 0);
        size_t n = 0;
        while (info.layers[n])
            n++;
        if (i < EC2_MAX_LAYERS) {
            assert_int_equal(n, (size_t)i + 1);
        } else {
            /* Past the limit: one layer holding the whole stack, deletions kept. */
            assert_int_equal(n, 1);
            assert_true(is_whiteout(info.layers[0], "a.txt"));
            assert_true(is_regular(info.layers[0], "b.txt"));
            assert_true(is_regular(info.layers[0], "gen-1.txt"));
            assert_true(is_regular(info.layers[0], "gen-16.txt"));
        }
        ec2_image_info_release(&info);
        snprintf(prev, sizeof(prev), "%s", id);
    }
    buf_release(&base);
    buf_release(&upper);
}

/* ---- fogbank ctl image import ---- */

struct tar_entry {
    const char *path;     /* as written in the archive */
    mode_t type;          /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR */
    const char *content;  /* file data, or the link target */
    const char *hardlink; /* a hard link to this path, or NULL */
};

static void
write_tar(const char *path, const struct tar_entry *e, size_t n, bool gzip)
{
    struct archive *a = archive_write_new();
    if (gzip)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].path);
        archive_entry_set_mtime(ae, 1700000000, 0);
        if (e[i].hardlink) {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, 0644);
            archive_entry_set_hardlink(ae, e[i].hardlink);
        } else {
            archive_entry_set_filetype(ae, e[i].type);
            archive_entry_set_perm(ae, e[i].type == AE_IFDIR ? 0755 : 0644);
            if (e[i].type == AE_IFLNK)
                archive_entry_set_symlink(ae, e[i].content);
            if (e[i].type == AE_IFCHR)
                archive_entry_set_rdev(ae, makedev(1, 3));
            if (e[i].type == AE_IFREG)
                archive_entry_set_size(ae, (la_int64_t)strlen(e[i].content));
        }
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (!e[i].hardlink && e[i].type == AE_IFREG)
            assert_int_equal(archive_write_data(a, e[i].content, strlen(e[i].content)),
                             (la_ssize_t)strlen(e[i].content));
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* ec2_images_import({"path": path, "name": name}); returns its result code. */
static int
import(struct fx *f, const char *path, const char *name, char *id, size_t idsz, struct aws_err *err)
{
    struct aws_call c = mkcall(f->app);
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "path", path);
    if (name)
        cJSON_AddStringToObject(in, "name", name);
    cJSON *out = cJSON_CreateObject();
    int rc = ec2_images_import(&c, in, out, err);
    if (rc == 0 && id) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(out, "ImageId");
        assert_true(cJSON_IsString(v));
        snprintf(id, idsz, "%s", v->valuestring);
    }
    cJSON_Delete(in);
    cJSON_Delete(out);
    return rc;
}

static void
test_import_a_directory(void **state)
{
    struct fx *f = *state;
    struct buf src = BUF_INIT;
    buf_addf(&src, "%s/web-build", f->scratch);
    write_file(src.data, "opt/web/app.py", "print('hi')\n");
    struct buf p = BUF_INIT;
    path_of(&p, src.data, "opt/web/current");
    assert_int_equal(symlink("/opt/web", p.data), 0);
    char id[32];
    struct aws_err err;
    assert_int_equal(import(f, src.data, NULL, id, sizeof(id), &err), 0);
    struct aws_call c = mkcall(f->app);
    struct ec2_image_info info;
    assert_int_equal(ec2_image_get(&c, id, &info, &err), 0);
    assert_true(is_regular(info.layers[0], "opt/web/app.py"));
    path_of(&p, info.layers[0], "opt/web/current");
    struct stat st;
    assert_int_equal(lstat(p.data, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    ec2_image_info_release(&info);

    /* The default name is the directory's; it is taken now. */
    struct http_resp r;
    ec2(f->app, &r,
        "Action=DescribeImages&Owner.1=self&Filter.1.Name=name&Filter.1.Value.1=web-build");
    assert_int_equal(count(r.body.data, "<imageId>"), 1);
    http_resp_release(&r);
    assert_int_equal(import(f, src.data, NULL, NULL, 0, &err), -1);
    assert_string_equal(err.code, "InvalidAMIName.Duplicate");

    /* Device nodes are refused and leave nothing behind. */
    int dirs = image_dirs(f->app);
    path_of(&p, src.data, "dev-null");
    assert_int_equal(mknod(p.data, S_IFCHR | 0666, makedev(1, 3)), 0);
    assert_int_equal(import(f, src.data, "with-device", NULL, 0, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    assert_non_null(strstr(err.message, "device"));
    assert_int_equal(image_dirs(f->app), dirs);

    assert_int_equal(import(f, "relative/path", "rel", NULL, 0, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    struct aws_call c2 = mkcall(f->app);
    cJSON *in = cJSON_CreateObject(), *out = cJSON_CreateObject();
    assert_int_equal(ec2_images_import(&c2, in, out, &err), -1);
    assert_string_equal(err.code, "MissingParameter");
    cJSON_Delete(in);
    cJSON_Delete(out);
    buf_release(&p);
    buf_release(&src);
}

static void
test_import_a_tarball(void **state)
{
    struct fx *f = *state;
    static const struct tar_entry entries[] = {
        { "./", AE_IFDIR, NULL, NULL },
        { "./srv/", AE_IFDIR, NULL, NULL },
        { "./srv/index.html", AE_IFREG, "<h1>hi</h1>\n", NULL },
        { "./srv/copy.html", AE_IFREG, NULL, "./srv/index.html" },
        { "./srv/latest", AE_IFLNK, "/srv/index.html", NULL },
        { "etc/fogbank/boot", AE_IFREG, "#!/bin/sh\n", NULL },
        { "etc/.wh.motd", AE_IFREG, "", NULL },
        { "var/lib/.wh..wh..opq", AE_IFREG, "", NULL },
    };
    struct buf tgz = BUF_INIT;
    buf_addf(&tgz, "%s/site-v3.tar.gz", f->scratch);
    write_tar(tgz.data, entries, ARRAY_SIZE(entries), true);
    char id[32];
    struct aws_err err;
    if (import(f, tgz.data, NULL, id, sizeof(id), &err) < 0)
        fail_msg("import: %s: %s", err.code, err.message);
    struct aws_call c = mkcall(f->app);
    struct ec2_image_info info;
    assert_int_equal(ec2_image_get(&c, id, &info, &err), 0);
    const char *layer = info.layers[0];
    assert_true(is_regular(layer, "srv/index.html"));
    assert_true(is_regular(layer, "srv/copy.html"));
    assert_true(is_whiteout(layer, "etc/motd"));
    assert_false(exists(layer, "etc/.wh.motd"));
    assert_false(exists(layer, "var/lib/.wh..wh..opq"));
    struct buf p = BUF_INIT;
    path_of(&p, layer, "var/lib");
    char v[4] = { 0 };
    assert_int_equal(getxattr(p.data, "trusted.overlay.opaque", v, sizeof(v)), 1);
    path_of(&p, layer, "srv/latest");
    struct stat st;
    assert_int_equal(lstat(p.data, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_non_null(info.boot_script);
    ec2_image_info_release(&info);

    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeImages&Filter.1.Name=name&Filter.1.Value.1=site-v3");
    assert_int_equal(count(r.body.data, "<imageId>"), 1);
    http_resp_release(&r);

    /* A plain .tar works too. */
    buf_reset(&tgz);
    buf_addf(&tgz, "%s/plain.tar", f->scratch);
    write_tar(tgz.data, entries + 2, 1, false);
    assert_int_equal(import(f, tgz.data, "plain-tar", id, sizeof(id), &err), 0);

    /* Not an archive at all. */
    write_file(f->scratch, "notes.txt", "just text\n");
    buf_reset(&tgz);
    buf_addf(&tgz, "%s/notes.txt", f->scratch);
    assert_int_equal(import(f, tgz.data, "notes", NULL, 0, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    buf_release(&p);
    buf_release(&tgz);
}

static void
test_import_refuses_malicious_tarballs(void **state)
{
    struct fx *f = *state;
    static const struct tar_entry dotdot[] = {
        { "ok.txt", AE_IFREG, "fine", NULL },
        { "../escape.txt", AE_IFREG, "gotcha", NULL },
    };
    static const struct tar_entry sneaky_dotdot[] = {
        { "a/b/../../../escape.txt", AE_IFREG, "gotcha", NULL },
    };
    static const struct tar_entry absolute[] = {
        { "/tmp/fogbank-absolute-escape.txt", AE_IFREG, "gotcha", NULL },
    };
    static const struct tar_entry through_link[] = {
        { "link", AE_IFLNK, "/tmp", NULL },
        { "link/fogbank-link-escape.txt", AE_IFREG, "gotcha", NULL },
    };
    static const struct tar_entry device[] = {
        { "dev/null", AE_IFCHR, NULL, NULL },
    };
    static const struct tar_entry hardlink_out[] = {
        { "passwd", AE_IFREG, NULL, "../../../../etc/passwd" },
    };
    static const struct {
        const char *name;
        const struct tar_entry *e;
        size_t n;
        const char *why;
    } cases[] = {
        { "dotdot", dotdot, ARRAY_SIZE(dotdot), "\"..\"" },
        { "sneaky", sneaky_dotdot, ARRAY_SIZE(sneaky_dotdot), "\"..\"" },
        { "absolute", absolute, ARRAY_SIZE(absolute), "absolute" },
        { "through-link", through_link, ARRAY_SIZE(through_link), "symlink" },
        { "device", device, ARRAY_SIZE(device), "device" },
        { "hardlink", hardlink_out, ARRAY_SIZE(hardlink_out), "\"..\"" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf tgz = BUF_INIT;
        buf_addf(&tgz, "%s/%s.tar.gz", f->scratch, cases[i].name);
        write_tar(tgz.data, cases[i].e, cases[i].n, true);
        struct aws_err err;
        aws_err_clear(&err);
        assert_int_equal(import(f, tgz.data, NULL, NULL, 0, &err), -1);
        if (strcmp(err.code, "InvalidParameterValue") != 0 || !strstr(err.message, cases[i].why))
            fail_msg("%s: %s: %s", cases[i].name, err.code, err.message);
        assert_non_null(strstr(err.message, "nothing was imported"));
        buf_release(&tgz);
    }
    /* Nothing escaped, and no partial layer or row is left. */
    assert_false(exists(f->scratch, "escape.txt"));
    assert_false(exists(f->app->data_dir, "escape.txt"));
    assert_false(exists("/tmp", "fogbank-absolute-escape.txt"));
    assert_false(exists("/tmp", "fogbank-link-escape.txt"));
    assert_int_equal(image_dirs(f->app), 0);
    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeImages&Owner.1=self");
    assert_int_equal(count(r.body.data, "<imageId>"), 0);
    http_resp_release(&r);
}

/* ---- launch templates ---- */

/* CreateLaunchTemplate; returns the id in out. */
static void
create_lt(struct app *app, const char *name, const char *data, char *out, size_t outsz)
{
    struct http_resp r;
    ec2(app, &r, "Action=CreateLaunchTemplate&LaunchTemplateName=%s&%s", name, data);
    expect_ok(&r);
    xml_get(&r, "launchTemplateId", out, outsz);
    http_resp_release(&r);
}

static void
test_create_launch_template(void **state)
{
    struct fx *f = *state;
    struct http_resp r;
    ec2(f->app, &r,
        "Action=CreateLaunchTemplate&LaunchTemplateName=web&VersionDescription=first"
        "&LaunchTemplateData.ImageId=ami-0123456789abcdef0"
        "&LaunchTemplateData.InstanceType=t3.micro"
        "&TagSpecification.1.ResourceType=launch-template&TagSpecification.1.Tag.1.Key=team"
        "&TagSpecification.1.Tag.1.Value=web");
    expect_ok(&r);
    char id[32];
    xml_get(&r, "launchTemplateId", id, sizeof(id));
    assert_true(ec2_id_well_formed(id, "lt"));
    assert_true(has(&r, "<launchTemplateName>web</launchTemplateName>"));
    assert_true(has(&r, "<defaultVersionNumber>1</defaultVersionNumber>"));
    assert_true(has(&r, "<latestVersionNumber>1</latestVersionNumber>"));
    assert_true(has(&r, "<createdBy>arn:aws:iam::123456789012:root</createdBy>"));
    assert_true(has(&r, "<createTime>"));
    assert_true(has(&r, "<key>team</key>"));
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=CreateLaunchTemplate&LaunchTemplateName=web"
        "&LaunchTemplateData.InstanceType=t3.micro");
    expect_error(&r, 400, "InvalidLaunchTemplateName.AlreadyExistsException");
    assert_true(has(&r, "Launch template name already in use."));
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=CreateLaunchTemplate&LaunchTemplateName=bad%%21name"
        "&LaunchTemplateData.InstanceType=t3.micro");
    expect_error(&r, 400, "InvalidLaunchTemplateName.MalformedException");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=CreateLaunchTemplate&LaunchTemplateName=nodata");
    expect_error(&r, 400, "MissingParameter");
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=CreateLaunchTemplate&LaunchTemplateName=dry&DryRun=true"
        "&LaunchTemplateData.InstanceType=t3.micro");
    expect_error(&r, 412, "DryRunOperation");
    http_resp_release(&r);

    /* Names are per region. */
    ec2_in(f->app, &r, AUTH("eu-west-1"),
           "Action=CreateLaunchTemplate&LaunchTemplateName=web"
           "&LaunchTemplateData.InstanceType=t3.micro");
    expect_ok(&r);
    http_resp_release(&r);
}

static void
test_launch_template_versions(void **state)
{
    struct fx *f = *state;
    char id[32];
    create_lt(f->app, "app",
              "LaunchTemplateData.ImageId=ami-0aaaaaaaaaaaaaaaa&LaunchTemplateData.InstanceType="
              "t3.micro&LaunchTemplateData.KeyName=deploy",
              id, sizeof(id));
    struct http_resp r;

    /* v2 from v1: InstanceType replaced, the rest kept. */
    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateName=app&SourceVersion=1"
        "&VersionDescription=bigger&LaunchTemplateData.InstanceType=t3.large");
    expect_ok(&r);
    assert_true(has(&r, "<versionNumber>2</versionNumber>"));
    assert_true(has(&r, "<defaultVersion>false</defaultVersion>"));
    assert_true(has(&r, "<instanceType>t3.large</instanceType>"));
    assert_true(has(&r, "<imageId>ami-0aaaaaaaaaaaaaaaa</imageId>"));
    assert_true(has(&r, "<keyName>deploy</keyName>"));
    assert_true(has(&r, "<versionDescription>bigger</versionDescription>"));
    http_resp_release(&r);

    /* v3 by id, no source: only what it says. */
    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateId=%s"
        "&LaunchTemplateData.ImageId=ami-0bbbbbbbbbbbbbbbb",
        id);
    expect_ok(&r);
    assert_true(has(&r, "<versionNumber>3</versionNumber>"));
    assert_null(strstr(r.body.data, "<keyName>"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplateVersions&LaunchTemplateId=%s", id);
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<versionNumber>"), 3);
    /* Highest first. */
    const char *v3 = strstr(r.body.data, "<versionNumber>3<");
    const char *v1 = strstr(r.body.data, "<versionNumber>1<");
    assert_true(v3 && v1 && v3 < v1);
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=DescribeLaunchTemplateVersions&LaunchTemplateName=app"
        "&LaunchTemplateVersion.1=$Latest&LaunchTemplateVersion.2=$Default");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<versionNumber>"), 2);
    assert_true(has(&r, "<versionNumber>3</versionNumber>"));
    assert_true(has(&r, "<versionNumber>1</versionNumber>"));
    assert_true(has(&r, "<defaultVersion>true</defaultVersion>"));
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=DescribeLaunchTemplateVersions&LaunchTemplateName=app&MinVersion=2"
        "&MaxVersion=2");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<versionNumber>"), 1);
    assert_true(has(&r, "<versionNumber>2</versionNumber>"));
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=DescribeLaunchTemplateVersions&LaunchTemplateName=app"
        "&Filter.1.Name=instance-type&Filter.1.Value.1=t3.*");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<versionNumber>"), 2);
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=DescribeLaunchTemplateVersions&LaunchTemplateName=app"
        "&LaunchTemplateVersion.1=9");
    expect_error(&r, 400, "InvalidLaunchTemplateId.VersionNotFound");
    assert_true(has(&r, "Could not find the specified version 9"));
    http_resp_release(&r);

    /* Every template's $Latest when none is named. */
    create_lt(f->app, "other", "LaunchTemplateData.InstanceType=t3.nano", id, sizeof(id));
    ec2(f->app, &r, "Action=DescribeLaunchTemplateVersions&LaunchTemplateVersion.1=$Latest");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<versionNumber>"), 2);
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateName=app&SourceVersion=7"
        "&LaunchTemplateData.InstanceType=t3.large");
    expect_error(&r, 400, "InvalidLaunchTemplateId.VersionNotFound");
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateName=nope"
        "&LaunchTemplateData.InstanceType=t3.large");
    expect_error(&r, 400, "InvalidLaunchTemplateName.NotFoundException");
    assert_true(has(&r, "with template name nope, does not exist"));
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateId=lt-0123456789abcdef0"
        "&LaunchTemplateData.InstanceType=t3.large");
    expect_error(&r, 400, "InvalidLaunchTemplateId.NotFound");
    assert_true(has(&r, "with template ID lt-0123456789abcdef0, does not exist"));
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateId=web"
        "&LaunchTemplateData.InstanceType=t3.large");
    expect_error(&r, 400, "InvalidLaunchTemplateId.Malformed");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=CreateLaunchTemplateVersion&LaunchTemplateData.InstanceType=t3.large");
    expect_error(&r, 400, "MissingParameter");
    http_resp_release(&r);
}

static void
test_describe_launch_templates(void **state)
{
    struct fx *f = *state;
    char a[32], b[32];
    create_lt(f->app, "alpha", "LaunchTemplateData.InstanceType=t3.micro", a, sizeof(a));
    create_lt(f->app, "beta", "LaunchTemplateData.InstanceType=t3.micro", b, sizeof(b));
    struct http_resp r;
    ec2(f->app, &r, "Action=DescribeLaunchTemplates");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<launchTemplateId>"), 2);
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplates&LaunchTemplateId.1=%s", b);
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<launchTemplateId>"), 1);
    assert_true(has(&r, "<launchTemplateName>beta</launchTemplateName>"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplates&LaunchTemplateName.1=alpha");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<launchTemplateId>"), 1);
    http_resp_release(&r);

    ec2(f->app, &r,
        "Action=DescribeLaunchTemplates&Filter.1.Name=launch-template-name&Filter.1.Value.1=b*");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<launchTemplateId>"), 1);
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplates&MaxResults=1");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<launchTemplateId>"), 1);
    assert_true(has(&r, "<nextToken>"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplates&LaunchTemplateName.1=gamma");
    expect_error(&r, 400, "InvalidLaunchTemplateName.NotFoundException");
    assert_true(has(&r, "At least one of the launch templates specified in the request does "
                        "not exist."));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplates&LaunchTemplateId.1=lt-0123456789abcdef0");
    expect_error(&r, 400, "InvalidLaunchTemplateId.NotFound");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplates&LaunchTemplateId.1=alpha");
    expect_error(&r, 400, "InvalidLaunchTemplateId.Malformed");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DescribeLaunchTemplates&Filter.1.Name=flavour&Filter.1.Value.1=x");
    expect_error(&r, 400, "InvalidParameterValue");
    http_resp_release(&r);
}

static void
test_modify_and_delete_launch_templates(void **state)
{
    struct fx *f = *state;
    char id[32];
    create_lt(f->app, "mod", "LaunchTemplateData.InstanceType=t3.micro", id, sizeof(id));
    struct http_resp r;
    for (int i = 0; i < 2; i++) {
        ec2(f->app, &r,
            "Action=CreateLaunchTemplateVersion&LaunchTemplateId=%s"
            "&LaunchTemplateData.InstanceType=t3.large",
            id);
        expect_ok(&r);
        http_resp_release(&r);
    }
    ec2(f->app, &r, "Action=ModifyLaunchTemplate&LaunchTemplateId=%s&SetDefaultVersion=2", id);
    expect_ok(&r);
    assert_true(has(&r, "<defaultVersionNumber>2</defaultVersionNumber>"));
    assert_true(has(&r, "<latestVersionNumber>3</latestVersionNumber>"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=ModifyLaunchTemplate&LaunchTemplateName=mod&SetDefaultVersion=8");
    expect_error(&r, 400, "InvalidLaunchTemplateId.VersionNotFound");
    http_resp_release(&r);

    ec2(f->app, &r, "Action=ModifyLaunchTemplate&LaunchTemplateName=gone&SetDefaultVersion=1");
    expect_error(&r, 400, "InvalidLaunchTemplateName.NotFoundException");
    http_resp_release(&r);

    /* Delete versions: the default one is refused, a missing one reported, others go. */
    ec2(f->app, &r,
        "Action=DeleteLaunchTemplateVersions&LaunchTemplateName=mod&LaunchTemplateVersion.1=2"
        "&LaunchTemplateVersion.2=3&LaunchTemplateVersion.3=9");
    expect_ok(&r);
    assert_int_equal(count(r.body.data, "<responseError>"), 2);
    assert_true(has(&r, "<code>launchTemplateVersionDoesNotExist</code>"));
    assert_true(has(&r, "<code>unexpectedError</code>"));
    const char *ok = strstr(r.body.data, "<successfullyDeletedLaunchTemplateVersionSet>");
    assert_non_null(ok);
    assert_non_null(strstr(ok, "<versionNumber>3</versionNumber>"));
    http_resp_release(&r);

    /* $Latest is now 2 and the next version is 4: numbers are not reused. */
    ec2(f->app, &r, "Action=DescribeLaunchTemplates&LaunchTemplateId.1=%s", id);
    assert_true(has(&r, "<latestVersionNumber>2</latestVersionNumber>"));
    http_resp_release(&r);
    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateId=%s"
        "&LaunchTemplateData.InstanceType=t3.nano",
        id);
    assert_true(has(&r, "<versionNumber>4</versionNumber>"));
    http_resp_release(&r);

    ec2(f->app, &r, "Action=DeleteLaunchTemplate&LaunchTemplateId=%s", id);
    expect_ok(&r);
    assert_true(has(&r, "<launchTemplateName>mod</launchTemplateName>"));
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DeleteLaunchTemplate&LaunchTemplateId=%s", id);
    expect_error(&r, 400, "InvalidLaunchTemplateId.NotFound");
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DeleteLaunchTemplate&LaunchTemplateName=mod");
    expect_error(&r, 400, "InvalidLaunchTemplateName.NotFoundException");
    http_resp_release(&r);
    ec2(f->app, &r, "Action=DeleteLaunchTemplate");
    expect_error(&r, 400, "MissingParameter");
    http_resp_release(&r);
    ec2(f->app, &r,
        "Action=DeleteLaunchTemplateVersions&LaunchTemplateName=mod"
        "&LaunchTemplateVersion.1=1");
    expect_error(&r, 400, "InvalidLaunchTemplateName.NotFoundException");
    http_resp_release(&r);

    /* The name is free again. */
    create_lt(f->app, "mod", "LaunchTemplateData.InstanceType=t3.micro", id, sizeof(id));
}

static void
test_resolve_a_launch_template(void **state)
{
    struct fx *f = *state;
    char id[32];
    create_lt(f->app, "run",
              "LaunchTemplateData.ImageId=ami-0aaaaaaaaaaaaaaaa&LaunchTemplateData.InstanceType="
              "t3.micro&LaunchTemplateData.RamDiskId=ari-12345678"
              "&LaunchTemplateData.SecurityGroupId.1=sg-0123456789abcdef0",
              id, sizeof(id));
    struct http_resp r;
    ec2(f->app, &r,
        "Action=CreateLaunchTemplateVersion&LaunchTemplateName=run"
        "&LaunchTemplateData.InstanceType=t3.large");
    expect_ok(&r);
    http_resp_release(&r);

    struct aws_call c = mkcall(f->app);
    struct aws_err err;
    cJSON *spec = cJSON_CreateObject(), *data = NULL;
    cJSON_AddStringToObject(spec, "LaunchTemplateName", "run");
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), 0);
    /* $Default (1) when no version is given; member names as RunInstances spells them. */
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "InstanceType")->valuestring,
                        "t3.micro");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "ImageId")->valuestring,
                        "ami-0aaaaaaaaaaaaaaaa");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "RamdiskId")->valuestring,
                        "ari-12345678");
    assert_null(cJSON_GetObjectItemCaseSensitive(data, "RamDiskId"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, "SecurityGroupIds")),
                     1);
    cJSON_Delete(data);

    cJSON_AddStringToObject(spec, "Version", "$Latest");
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "InstanceType")->valuestring,
                        "t3.large");
    cJSON_Delete(data);

    cJSON_ReplaceItemInObject(spec, "Version", cJSON_CreateString("1"));
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "InstanceType")->valuestring,
                        "t3.micro");
    cJSON_Delete(data);

    cJSON_ReplaceItemInObject(spec, "Version", cJSON_CreateString("5"));
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), -1);
    assert_string_equal(err.code, "InvalidLaunchTemplateId.VersionNotFound");
    assert_null(data);
    cJSON_Delete(spec);

    spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "LaunchTemplateId", id);
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), 0);
    cJSON_Delete(data);
    cJSON_ReplaceItemInObject(spec, "LaunchTemplateId", cJSON_CreateString("lt-00000000"));
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), -1);
    assert_string_equal(err.code, "InvalidLaunchTemplateId.NotFound");
    cJSON_Delete(spec);

    spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "LaunchTemplateName", "missing");
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), -1);
    assert_string_equal(err.code, "InvalidLaunchTemplateName.NotFoundException");
    cJSON_Delete(spec);

    spec = cJSON_CreateObject();
    assert_int_equal(ec2_launch_template_resolve(&c, spec, &data, &err), -1);
    assert_string_equal(err.code, "MissingParameter");
    cJSON_Delete(spec);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_describe_images_shows_two_public_amazon_builtins),
        T(test_builtin_ids_are_stable_and_survive_a_reset),
        T(test_describe_images_owners),
        T(test_describe_images_filters),
        T(test_describe_images_by_id),
        T(test_describe_images_paginates),
        T(test_register_image_without_location_adds_no_layer),
        T(test_register_image_from_a_directory_copies_its_files),
        T(test_register_image_errors),
        T(test_deregister_image),
        T(test_create_from_disk_keeps_whiteouts_opaque_dirs_and_symlinks),
        T(test_a_whiteout_hides_the_boot_script_of_the_image_below),
        T(test_a_deep_stack_is_squashed_into_one_layer),
        T(test_import_a_directory),
        T(test_import_a_tarball),
        T(test_import_refuses_malicious_tarballs),
        T(test_create_launch_template),
        T(test_launch_template_versions),
        T(test_describe_launch_templates),
        T(test_modify_and_delete_launch_templates),
        T(test_resolve_a_launch_template),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
