/*
 * What the EC2 service's files share with each other (not with other services): filters,
 * pagination, tags, ids, the default VPC, and the look-ups one area of EC2 needs from
 * another. Each area lives in its own file (network.c, tags.c, images.c, templates.c,
 * instances.c, imds.c); SQL lives in state/ec2_*.c.
 */
#ifndef FB_SERVICES_EC2_INTERNAL_H
#define FB_SERVICES_EC2_INTERNAL_H

#include "emulator/common.h"
#include "emulator/aws_err.h"
#include "emulator/service.h"

#include <cjson/cJSON.h>

struct app;

/* ---- filters (common.c) ---- */

/*
 * One filter an operation supports: its AWS name and the dotted path of the value in the
 * operation's *output item* (e.g. "Placement.AvailabilityZone"). A path crossing an array
 * matches if any element matches ("SecurityGroups.GroupId"). "tag:KEY", "tag-key" and
 * "tag-value" are understood for every resource whose item has "Tags" (or "TagSet" in the
 * wire name: the tree uses the model member name "Tags").
 */
struct ec2_filter_def {
    const char *name; /* "instance-state-name" */
    const char *path; /* "State.Name" */
};

/*
 * Whether an output item passes every filter of `filters` (the tree's Filters list: [{Name,
 * Values}]). Values may use the * and ? wildcards; booleans and numbers in the item compare
 * as their text ("true", "16"). Returns 1 (keep), 0 (drop), or -1 with
 * InvalidParameterValue "The filter 'x' is invalid" for an unknown filter name.
 */
int ec2_filter_match(const struct ec2_filter_def *defs, size_t n_defs, const cJSON *filters,
                     const cJSON *item, struct aws_err *err);

/* ---- small answers every area gives (common.c) ---- */

/*
 * DryRunOperation (HTTP 412, "Request would have succeeded, but DryRun flag is set.", as in
 * aws/aws-cli#3127) when in.DryRun is true, else 0. fogbank has no permissions to check, so
 * every validated dry run "would have succeeded": call it after validation.
 */
int ec2_dry_run(const cJSON *in, struct aws_err *err);
/* InternalError for a state-database failure (state/ has logged the details); returns -1. */
int ec2_db_failed(struct aws_err *err);

/* ---- pagination (common.c) ---- */

/*
 * Moves one page of `all` (an array the caller built, in final order) into out[member],
 * honouring in.MaxResults (bounds min..max, else InvalidParameterValue) and in.NextToken
 * (opaque; a token not made by us is InvalidParameterValue / InvalidNextToken as the model
 * names it), and sets out.NextToken when more remain. Takes ownership of `all`. -1 + err.
 */
int ec2_paginate(cJSON *all, const cJSON *in, cJSON *out, const char *member, int min_results,
                 int max_results, struct aws_err *err);

/* ---- ids and errors (common.c) ---- */

/* A new resource id with the 17-hex-digit form: ec2_new_id(call, "i", buf, sizeof(buf)). */
void ec2_new_id(struct aws_call *call, const char *prefix, char *out, size_t outsz);
/* True when id has the shape prefix-<8 or 17 hex> (for *.Malformed errors). */
bool ec2_id_well_formed(const char *id, const char *prefix);

/* ---- tags (tags.c) ---- */

/*
 * Applies the TagSpecifications of a create call to one new resource of `resource_type`
 * ("instance", "security-group", ...): tags of specs for other types the call also creates
 * (an instance's volumes, an image's snapshots) are ignored; a spec naming a type the call
 * cannot tag is InvalidParameter "'x' is not a valid taggable resource type for this
 * operation." (AWS's code and wording, quoted in jonrau1/SyntheticSun#13). -1 + err.
 */
int ec2_tags_apply_specs(struct aws_call *call, const cJSON *specs, const char *resource_type,
                         const char *resource_id, struct aws_err *err);
/* Sets (overwrites) tags [{Key, Value}] on a resource; -1 + err (limits, bad keys). */
int ec2_tags_put(struct aws_call *call, const char *resource_id, const char *resource_type,
                 const cJSON *tags, struct aws_err *err);
/* Adds item["Tags"] = [{Key, Value}, ...] sorted by key, or nothing when it has none. */
void ec2_tags_add_to(struct aws_call *call, const char *resource_id, cJSON *item);
/* Deletes every tag of a resource (when it is deleted). */
void ec2_tags_drop(struct aws_call *call, const char *resource_id);

/* ---- network look-ups (network.c) ---- */

/* Makes sure the region has its default VPC, one default subnet per AZ and the VPC's
   default security group; idempotent, cheap when they exist. -1 + err. */
int ec2_ensure_default_vpc(struct aws_call *call, struct aws_err *err);

struct ec2_subnet_info {
    char id[32];     /* subnet-... */
    char vpc_id[32]; /* vpc-... */
    char az[32];     /* us-east-1a */
    char cidr[24];   /* 172.31.0.0/20 */
};
/* The subnet `id` of the call's region (InvalidSubnetID.NotFound otherwise). */
int ec2_subnet_get(struct aws_call *call, const char *id, struct ec2_subnet_info *out,
                   struct aws_err *err);
/* The default subnet of an AZ of the call's region (default VPC ensured). */
int ec2_default_subnet(struct aws_call *call, const char *az, struct ec2_subnet_info *out,
                       struct aws_err *err);
/* A free private IPv4 address in the subnet, distinct from every other instance's. */
int ec2_subnet_allocate_ip(struct aws_call *call, const struct ec2_subnet_info *subnet, char *ip,
                           size_t ipsz, struct aws_err *err);
/* Gives back an address ec2_subnet_allocate_ip handed out (when its instance is gone). */
void ec2_subnet_release_ip(struct aws_call *call, const char *subnet_id, const char *ip);
/*
 * Resolves security groups for a launch into `out` (an array of {GroupId, GroupName}): by
 * ids and/or names within vpc_id; none given -> the VPC's default group.
 * InvalidGroup.NotFound for an unknown one.
 */
int ec2_security_groups_resolve(struct aws_call *call, const char *vpc_id, const cJSON *ids,
                                const cJSON *names, cJSON *out, struct aws_err *err);
/*
 * Records that `user_id` (an instance or interface id) uses the groups of `groups` (an array
 * of {GroupId}, as ec2_security_groups_resolve fills it), so DeleteSecurityGroup answers
 * DependencyViolation while it does; ec2_security_groups_unuse forgets every group of a user
 * (at termination). -1 + err.
 */
int ec2_security_groups_use(struct aws_call *call, const char *user_id, const cJSON *groups,
                            struct aws_err *err);
void ec2_security_groups_unuse(struct aws_call *call, const char *user_id);
/* Whether a key pair of that name exists in the region (InvalidKeyPair.NotFound if not). */
int ec2_key_pair_check(struct aws_call *call, const char *name, struct aws_err *err);

/* ---- images and launch templates (images.c, templates.c) ---- */

#define EC2_MAX_LAYERS 16

struct ec2_image_info {
    char id[32];                      /* ami-... */
    char state[16];                   /* "available", "pending", ... */
    char *layers[EC2_MAX_LAYERS + 1]; /* layer dirs top-most first, NULL-terminated,
                                                owned: free with ec2_image_info_release */
    char *boot_script;                /* host path of the boot script, or NULL */
    char root_device_name[32];        /* "/dev/xvda" */
    char architecture[16];            /* "x86_64" */
};
/* The image `id` visible in the call's region, to launch from (InvalidAMIID.NotFound /
   .Malformed, .Unavailable once deregistered). Built-in images have no layer. */
int ec2_image_get(struct aws_call *call, const char *id, struct ec2_image_info *out,
                  struct aws_err *err);
void ec2_image_info_release(struct ec2_image_info *info);
/*
 * Like ec2_image_get, but also for an image deregistered since (state "deregistered"): an
 * instance launched from an image keeps booting after the image is deregistered, as on
 * AWS, so booting an existing instance (and CreateImage from it) uses this one; launching
 * a new instance uses ec2_image_get, which answers InvalidAMIID.Unavailable then.
 */
int ec2_image_get_for_boot(struct aws_call *call, const char *id, struct ec2_image_info *out,
                           struct aws_err *err);
/*
 * The service side of `fogbank ctl image import DIR|TARBALL [--name NAME]` (POST
 * /_fogbank/images/import): in = {"path": absolute host path of a directory or a .tar,
 * .tar.gz or .tgz, "name"?: AMI name (default: the file name without extension),
 * "description"?, "region"?: default the call's}; out = {"ImageId", "Name", "Region"}. A
 * directory is copied into a new layer, a tarball extracted into one (absolute paths, ".."
 * components, writes through symlinks and device nodes are refused, InvalidParameterValue).
 * -1 + err (InvalidAMIName.Malformed / .Duplicate, MissingParameter, InternalError).
 */
int ec2_images_import(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
/* Removes every image layer from the data directory (POST /_fogbank/reset empties the rows;
   call it from the EC2 reset hook). */
void ec2_images_reset(struct app *app);
/*
 * Makes a new image from an instance's writable layer `upper_dir` on top of the instance's
 * image (CreateImage): copies the layer into the image store (a copy: the instance may go on
 * running; whiteouts and opaque directories are kept); the image is 'available' at once.
 * The source may since have been deregistered. Fills new_id. -1 + err
 * (InvalidAMIName.Malformed / .Duplicate, InvalidAMIID.*, InternalError).
 */
int ec2_image_create_from_disk(struct aws_call *call, const char *source_image_id,
                               const char *upper_dir, const char *name, const char *description,
                               const char *instance_id, char *new_id, size_t new_id_sz,
                               struct aws_err *err);

/*
 * Resolves RunInstances' LaunchTemplate {LaunchTemplateId|LaunchTemplateName, Version}
 * ("$Default", "$Latest" or a number; default $Default) into `*data`: a new tree of the
 * version's RequestLaunchTemplateData in the shape of RunInstances' input (the caller
 * merges: explicit RunInstances members win). -1 + err (InvalidLaunchTemplateId.NotFound,
 * InvalidLaunchTemplateName.NotFoundException, InvalidLaunchTemplateId.VersionNotFound).
 */
int ec2_launch_template_resolve(struct aws_call *call, const cJSON *spec, cJSON **data,
                                struct aws_err *err);

/* ---- instances (instances.c) ---- */

/* The directory that holds instance disks and image layers: <state dir>/... */
const char *ec2_data_dir(struct aws_call *call);

#endif
