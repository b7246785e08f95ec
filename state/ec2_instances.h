/*
 * The EC2 instances store: typed access to reservations, instances, faults and IMDS tokens
 * (state/schema_ec2_instances.c). It holds no EC2 behaviour: which state follows which is
 * services/ec2/lifecycle.c's business. Every function returns -1 (logged) on a database
 * failure.
 */
#ifndef FB_STATE_EC2_INSTANCES_H
#define FB_STATE_EC2_INSTANCES_H

#include "db.h"

/* One instance row. Short fields are inline; the JSON and user data are owned (heap). */
struct ec2_instance_rec {
    char id[32];                    /* i-... */
    char region[32];                /* us-east-1 */
    char reservation_id[32];        /* r-... */
    char image_id[32];              /* ami-... */
    char instance_type[32];         /* t3.micro */
    char az[32];                    /* us-east-1a */
    char subnet_id[32];             /* subnet-... */
    char vpc_id[32];                /* vpc-... */
    char private_ip[24];            /* 172.31.0.4 */
    int state_code;                 /* 0 pending, 16 running, ... (AWS InstanceState.Code) */
    char state_reason_code[64];     /* StateReason.Code, "" when none */
    char state_reason_message[160]; /* StateReason.Message */
    char transition_reason[128];    /* StateTransitionReason, may be "" */
    int64_t launch_ms;              /* LaunchTime, virtual ms */
    char key_name[256];             /* KeyName, "" when none */
    char client_token[80];          /* ClientToken, "" when none */
    char shutdown_behavior[16];     /* "stop" or "terminate" */
    bool disable_api_termination;   /* termination protection */
    bool first_boot_done;           /* user data ran (it runs once) */
    bool reboot_pending;            /* boot again when the tree has exited (RebootInstances) */
    int ami_launch_index;           /* index within its reservation */
    int64_t terminated_ms;          /* when it reached terminated, 0 before */
    char *user_data;                /* base64 text as received, "" when none; owned */
    char *iam_profile;              /* IamInstanceProfile JSON as given, "" when none; owned */
    char *security_groups;          /* JSON [{GroupId, GroupName}]; owned */
    char *metadata_options;         /* JSON {HttpTokens, HttpEndpoint, ...}; owned */
    char *ports;                    /* JSON {"80": host port, ...}; owned */
};

void ec2_instance_rec_init(struct ec2_instance_rec *r);
/* Frees the owned strings; accepts a released or zeroed rec. */
void ec2_instance_rec_release(struct ec2_instance_rec *r);
/* Replaces an owned string member with a copy of value. */
void ec2_instance_rec_set(char **field, const char *value);

/* A reservation; request_digest (may be NULL) identifies the parameters of the RunInstances
   call that made it, so a retry with the same client_token can be told from a reuse. */
int ec2_store_put_reservation(struct db *db, const char *id, const char *region,
                              const char *owner_id, const char *client_token,
                              const char *request_digest, int64_t now_ms);
/* The reservation made with client_token in region: 1 found (id and digest filled; digest ""
   when none was stored), 0 none, -1. */
int ec2_store_find_reservation(struct db *db, const char *region, const char *client_token,
                               char *id, size_t idsz, char *digest, size_t digestsz);
/* The owner of a reservation into owner (""), 0 / -1. */
int ec2_store_reservation_owner(struct db *db, const char *id, char *owner, size_t ownersz);

/* Inserts or updates (by id) every column of the row. */
int ec2_store_put_instance(struct db *db, const struct ec2_instance_rec *r);
/*
 * The instance `id` (in `region`, or any region when region is NULL) into *r (initialised
 * by the caller, released by the caller): 1 found, 0 not, -1.
 */
int ec2_store_get_instance(struct db *db, const char *region, const char *id,
                           struct ec2_instance_rec *r);
/*
 * Calls fn for every instance of `region` (NULL: all regions), in launch order; r is borrowed
 * for the call. fn returns 0 to go on, else the walk stops and returns that value.
 */
typedef int ec2_instance_walk_fn(void *arg, const struct ec2_instance_rec *r);
int ec2_store_walk_instances(struct db *db, const char *region, ec2_instance_walk_fn *fn,
                             void *arg);
/*
 * Calls fn with the id and reservation id of every instance of `region`, in launch order:
 * the cheap walk for a caller that already holds what it needs of most rows (DescribeInstances'
 * rendered items). Rows are collected first, so fn may use the store. fn as above.
 */
typedef int ec2_instance_key_fn(void *arg, const char *id, const char *reservation_id);
int ec2_store_walk_instance_keys(struct db *db, const char *region, ec2_instance_key_fn *fn,
                                 void *arg);
/* Same, restricted to one reservation. */
int ec2_store_walk_reservation(struct db *db, const char *reservation_id, ec2_instance_walk_fn *fn,
                               void *arg);
/* Deletes an instance (and its reservation once empty) and its IMDS tokens. */
int ec2_store_delete_instance(struct db *db, const char *id);
/* Instances of region in state pending or running (the instance limit counts these). */
int ec2_store_count_active(struct db *db, const char *region, int *count);
/* The earliest terminated_ms among terminated instances: 1 (filled), 0 none, -1. */
int ec2_store_first_terminated(struct db *db, int64_t *ms);

/* Faults: kind "kill", "hang", "health-fail", "az-down"; target an instance id or a zone
   name. */
int ec2_store_put_fault(struct db *db, const char *kind, const char *target, int64_t now_ms);
/* Deletes matching faults; NULL kind or target matches any. */
int ec2_store_delete_faults(struct db *db, const char *kind, const char *target);
/* 1 when the fault is in force, 0 when not, -1. */
int ec2_store_has_fault(struct db *db, const char *kind, const char *target);
typedef int ec2_fault_walk_fn(void *arg, const char *kind, const char *target, int64_t since_ms);
int ec2_store_walk_faults(struct db *db, ec2_fault_walk_fn *fn, void *arg);

/* IMDSv2 tokens. */
int ec2_store_put_imds_token(struct db *db, const char *token, const char *instance_id,
                             int64_t expires_ms);
/* 1 when token is valid for instance_id at now_ms, 0 when not, -1. */
int ec2_store_check_imds_token(struct db *db, const char *token, const char *instance_id,
                               int64_t now_ms);

#endif
