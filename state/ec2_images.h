/*
 * The EC2 images store: typed access to the AMI, launch template and launch template
 * version rows (schema in state/schema_ec2_images.c). Rows in, rows out; no AWS rules live
 * here (visibility, naming, version selection are services/ec2/images.c and templates.c).
 * Every function returns -1 on a database failure, already logged.
 */
#ifndef FB_STATE_EC2_IMAGES_H
#define FB_STATE_EC2_IMAGES_H

#include "../emulator/common.h"

struct db;

/* One AMI row. The strings are owned by the row: free with ec2_store_image_release(). */
struct ec2_image_row {
    char id[32];                 /* ami-... */
    char region[32];             /* us-east-1 */
    char *name;                  /* never NULL once filled */
    char *description;           /* NULL when none was given */
    char *location;              /* ImageLocation, never NULL once filled */
    char owner_id[16];           /* account id */
    char owner_alias[16];        /* "amazon" or "" */
    char state[16];              /* "pending", "available", "deregistered" */
    char architecture[16];       /* "x86_64" */
    char root_device_name[32];   /* "/dev/xvda" */
    char *block_devices;         /* BlockDeviceMappings as JSON text, never NULL once filled */
    bool ena_support;            /* EnaSupport */
    bool public;                 /* launchable by every account */
    char *layer_dir;             /* relative to the data dir, NULL when the image adds no layer */
    char parent_id[32];          /* the image below in the layer stack, "" for none */
    int depth;                   /* layer directories in the stack, this image's included */
    char *boot_script;           /* path of the boot script inside the image */
    char source_instance_id[32]; /* CreateImage's instance, "" for none */
    bool builtin;                /* one of the built-in images of every region */
    int64_t created_ms;          /* virtual ms */
};

void ec2_store_image_release(struct ec2_image_row *r);

/* Inserts a new image; -1 also when the id or a live (region, owner, name) already exists. */
int ec2_store_image_put(struct db *db, const struct ec2_image_row *r);
/* 1 and *out filled (release it) when the image `id` exists in region, deregistered or not;
   0 when not (out untouched); -1 on failure. */
int ec2_store_image_get(struct db *db, const char *region, const char *id,
                        struct ec2_image_row *out);
/* The id of the live image named `name` of owner in region into id (1), 0 if none, -1. */
int ec2_store_image_find_name(struct db *db, const char *region, const char *owner_id,
                              const char *name, char *id, size_t idsz);
/* Marks an image deregistered at ms; -1 on failure. */
int ec2_store_image_deregister(struct db *db, const char *id, int64_t ms);

/*
 * Calls fn for every image of region that is not deregistered, oldest first (ties by id).
 * fn borrows the row for the duration of the call and returns 0 to go on, -1 to stop;
 * the iteration then returns -1. Returns 0 when every row was seen.
 */
typedef int ec2_store_image_fn(void *arg, const struct ec2_image_row *r);
int ec2_store_images_each(struct db *db, const char *region, ec2_store_image_fn *fn, void *arg);

/* One launch template row. */
struct ec2_lt_row {
    char id[32];         /* lt-... */
    char region[32];     /* us-east-1 */
    char name[136];      /* at most 128 characters */
    int64_t default_ver; /* DefaultVersionNumber */
    int64_t next_ver;    /* the number the next version gets */
    char created_by[64]; /* arn:aws:iam::<account>:root */
    int64_t created_ms;  /* virtual ms */
};

/* Inserts a template; -1 also when the id or (region, name) exists. */
int ec2_store_lt_put(struct db *db, const struct ec2_lt_row *r);
/* 1 and *out filled, 0 when there is none, -1 on failure. */
int ec2_store_lt_get(struct db *db, const char *region, const char *id, struct ec2_lt_row *out);
int ec2_store_lt_get_by_name(struct db *db, const char *region, const char *name,
                             struct ec2_lt_row *out);
/* Rewrites default_ver and next_ver of template r->id. */
int ec2_store_lt_update(struct db *db, const struct ec2_lt_row *r);
/* Deletes a template and its versions. */
int ec2_store_lt_delete(struct db *db, const char *id);
/* Calls fn for each template of region, oldest first; as ec2_store_images_each. */
typedef int ec2_store_lt_fn(void *arg, const struct ec2_lt_row *r);
int ec2_store_lts_each(struct db *db, const char *region, ec2_store_lt_fn *fn, void *arg);

/* One launch template version row; data and description are owned (release it). */
struct ec2_ltv_row {
    char template_id[32]; /* lt-... */
    int64_t version;      /* VersionNumber, from 1 */
    char *description;    /* NULL when none was given */
    char *data;           /* RequestLaunchTemplateData as JSON text */
    char created_by[64];  /* arn:aws:iam::<account>:root */
    int64_t created_ms;   /* virtual ms */
};

void ec2_store_ltv_release(struct ec2_ltv_row *r);
int ec2_store_ltv_put(struct db *db, const struct ec2_ltv_row *r);
/* 1 and *out filled (release it), 0 when there is no such version, -1 on failure. */
int ec2_store_ltv_get(struct db *db, const char *template_id, int64_t version,
                      struct ec2_ltv_row *out);
/* The highest version number left (0 when none) into *version; -1 on failure. */
int ec2_store_ltv_latest(struct db *db, const char *template_id, int64_t *version);
/* Deletes one version: 1 if it existed, 0 if not, -1 on failure. */
int ec2_store_ltv_delete(struct db *db, const char *template_id, int64_t version);
/* Calls fn for each version of the template, highest first; as ec2_store_images_each. */
typedef int ec2_store_ltv_fn(void *arg, const struct ec2_ltv_row *r);
int ec2_store_ltvs_each(struct db *db, const char *template_id, ec2_store_ltv_fn *fn, void *arg);

#endif
