/*
 * The typed store of the EC2 network area: VPCs, subnets and the addresses taken in them,
 * security groups and their rules, key pairs, and the tags of every EC2 resource. Rows go in
 * and out as plain structs; nothing here knows the AWS wire shapes or the errors AWS answers,
 * which are the handlers' business (services/ec2/network.c, tags.c).
 *
 * Conventions: every function returns -1 on a database failure (already logged); look-ups
 * return 1 when found (out filled), 0 when not. "each" functions call fn for every row in
 * creation order and stop early, returning fn's value, when fn returns non-zero.
 */
#ifndef FB_STATE_EC2_NETWORK_H
#define FB_STATE_EC2_NETWORK_H

#include "../emulator/common.h"

struct db;

/* ---- regions ---- */

/* Whether the region's default network has been made (it is made once: deleting the
   default VPC afterwards does not bring it back, as in AWS). */
int ec2_store_region_initialized(struct db *db, const char *region);
int ec2_store_region_mark_initialized(struct db *db, const char *region);

/* ---- VPCs ---- */

struct ec2_vpc_row {
    char id[32];               /* vpc-... */
    char region[32];           /* us-east-1 */
    char cidr[24];             /* 172.31.0.0/16 */
    char cidr_assoc_id[48];    /* vpc-cidr-assoc-... */
    bool is_default;           /* the region's default VPC */
    char instance_tenancy[16]; /* "default" | "dedicated" | "host" */
    char dhcp_options_id[32];  /* dopt-... */
    int64_t created_ms;        /* virtual time of creation */
};

typedef int ec2_store_vpc_fn(void *arg, const struct ec2_vpc_row *row);

int ec2_store_vpc_put(struct db *db, const struct ec2_vpc_row *row);
int ec2_store_vpc_get(struct db *db, const char *region, const char *id, struct ec2_vpc_row *out);
int ec2_store_vpc_get_default(struct db *db, const char *region, struct ec2_vpc_row *out);
int ec2_store_vpc_each(struct db *db, const char *region, ec2_store_vpc_fn *fn, void *arg);
int ec2_store_vpc_delete(struct db *db, const char *id);

/* ---- subnets ---- */

struct ec2_subnet_row {
    char id[32];         /* subnet-... */
    char region[32];     /* us-east-1 */
    char vpc_id[32];     /* vpc-... */
    char az[32];         /* us-east-1a */
    char cidr[24];       /* 172.31.0.0/20 */
    bool default_for_az; /* a default subnet of the default VPC */
    bool map_public_ip;  /* MapPublicIpOnLaunch */
    int64_t created_ms;  /* virtual time of creation */
};

typedef int ec2_store_subnet_fn(void *arg, const struct ec2_subnet_row *row);

int ec2_store_subnet_put(struct db *db, const struct ec2_subnet_row *row);
int ec2_store_subnet_get(struct db *db, const char *region, const char *id,
                         struct ec2_subnet_row *out);
/* The default subnet of an AZ (of the region's default VPC). */
int ec2_store_subnet_get_default(struct db *db, const char *region, const char *az,
                                 struct ec2_subnet_row *out);
int ec2_store_subnet_each(struct db *db, const char *region, ec2_store_subnet_fn *fn, void *arg);
int ec2_store_subnet_each_in_vpc(struct db *db, const char *vpc_id, ec2_store_subnet_fn *fn,
                                 void *arg);
/* How many subnets the VPC has (-1 on failure). */
int ec2_store_subnet_count_in_vpc(struct db *db, const char *vpc_id);
int ec2_store_subnet_delete(struct db *db, const char *id);

/* ---- addresses taken in a subnet (IPv4 in host byte order) ---- */

/*
 * The lowest address >= first and <= last that is free in the subnet: 1 with *ip set, 0
 * when the range is full.
 */
int ec2_store_subnet_ip_lowest_free(struct db *db, const char *subnet_id, uint32_t first,
                                    uint32_t last, uint32_t *ip);
int ec2_store_subnet_ip_put(struct db *db, const char *subnet_id, uint32_t ip);
int ec2_store_subnet_ip_delete(struct db *db, const char *subnet_id, uint32_t ip);
/* How many addresses are taken in the subnet (-1 on failure). */
int ec2_store_subnet_ip_count(struct db *db, const char *subnet_id);

/* ---- security groups ---- */

struct ec2_sg_row {
    char id[32];           /* sg-... */
    char region[32];       /* us-east-1 */
    char vpc_id[32];       /* vpc-... */
    char name[256];        /* GroupName, unique within the VPC */
    char description[256]; /* GroupDescription */
    int64_t created_ms;    /* virtual time of creation */
};

typedef int ec2_store_sg_fn(void *arg, const struct ec2_sg_row *row);

int ec2_store_sg_put(struct db *db, const struct ec2_sg_row *row);
int ec2_store_sg_get(struct db *db, const char *region, const char *id, struct ec2_sg_row *out);
int ec2_store_sg_get_by_name(struct db *db, const char *vpc_id, const char *name,
                             struct ec2_sg_row *out);
int ec2_store_sg_each(struct db *db, const char *region, ec2_store_sg_fn *fn, void *arg);
/* How many groups of the VPC are not named "default" (-1 on failure). */
int ec2_store_sg_count_non_default_in_vpc(struct db *db, const char *vpc_id);
/* Deletes the group with its rules and users (not its tags). */
int ec2_store_sg_delete(struct db *db, const char *id);
/* Whether a rule of another group refers to group id (1 yes, 0 no, -1 failure). */
int ec2_store_sg_is_referenced(struct db *db, const char *id);

/* What uses a group (an instance, a network interface): DeleteSecurityGroup refuses then. */
int ec2_store_sg_user_put(struct db *db, const char *group_id, const char *user_id);
int ec2_store_sg_user_delete_all(struct db *db, const char *user_id);
/* 1 when anything uses the group, 0 when nothing does, -1 on failure. */
int ec2_store_sg_in_use(struct db *db, const char *group_id);

struct ec2_sg_rule_row {
    char id[32];             /* sgr-... */
    char group_id[32];       /* sg-... the rule belongs to */
    bool is_egress;          /* outbound rule */
    char protocol[16];       /* "tcp", "udp", "icmp", "icmpv6", "-1" or a number */
    bool has_ports;          /* from_port/to_port are meaningful (NULL in the table if not) */
    int from_port;           /* start of the port range, or ICMP type */
    int to_port;             /* end of the port range, or ICMP code */
    char cidr_ipv4[24];      /* peer: an IPv4 CIDR, or "" */
    char cidr_ipv6[48];      /* peer: an IPv6 CIDR, or "" */
    char prefix_list_id[32]; /* peer: a prefix list, or "" */
    char ref_group_id[32];   /* peer: a security group, or "" */
    char ref_user_id[16];    /* owner of ref_group_id, or "" */
    char description[256];   /* the rule's description, or "" */
};

typedef int ec2_store_sg_rule_fn(void *arg, const struct ec2_sg_rule_row *row);

int ec2_store_sg_rule_put(struct db *db, const struct ec2_sg_rule_row *row);
int ec2_store_sg_rule_each(struct db *db, const char *group_id, ec2_store_sg_rule_fn *fn,
                           void *arg);
int ec2_store_sg_rule_delete(struct db *db, const char *id);

/* ---- key pairs ---- */

struct ec2_key_pair_row {
    char id[32];           /* key-... */
    char region[32];       /* us-east-1 */
    char name[256];        /* KeyName, unique within the region */
    char key_type[16];     /* "rsa" | "ed25519" */
    char fingerprint[96];  /* as AWS computes it (see network.c) */
    char public_key[2048]; /* OpenSSH one-line form: "ssh-ed25519 AAAA... comment" */
    int64_t created_ms;    /* virtual time of creation or import */
};

typedef int ec2_store_key_pair_fn(void *arg, const struct ec2_key_pair_row *row);

int ec2_store_key_pair_put(struct db *db, const struct ec2_key_pair_row *row);
int ec2_store_key_pair_get_by_name(struct db *db, const char *region, const char *name,
                                   struct ec2_key_pair_row *out);
int ec2_store_key_pair_get(struct db *db, const char *region, const char *id,
                           struct ec2_key_pair_row *out);
int ec2_store_key_pair_each(struct db *db, const char *region, ec2_store_key_pair_fn *fn,
                            void *arg);
int ec2_store_key_pair_delete(struct db *db, const char *id);

/* ---- tags (every EC2 resource) ---- */

struct ec2_tag_row {
    const char *resource_id;   /* borrowed, valid during the callback */
    const char *resource_type; /* "vpc", "instance", ... */
    const char *key;           /* the tag key */
    const char *value;         /* the tag value ("" when none was given) */
};

typedef int ec2_store_tag_fn(void *arg, const struct ec2_tag_row *row);

/* Sets (inserts or overwrites) one tag. */
int ec2_store_tag_put(struct db *db, const char *region, const char *resource_id,
                      const char *resource_type, const char *key, const char *value);
/* Deletes one tag: any value when value is NULL, else only when the value equals it. */
int ec2_store_tag_delete(struct db *db, const char *resource_id, const char *key,
                         const char *value);
int ec2_store_tag_delete_all(struct db *db, const char *resource_id);
/* How many tags the resource has (-1 on failure). */
int ec2_store_tag_count(struct db *db, const char *resource_id);
/* The tags of one resource, sorted by key. */
int ec2_store_tag_each_of(struct db *db, const char *resource_id, ec2_store_tag_fn *fn, void *arg);
/* Every tag of the region, sorted by resource id then key. */
int ec2_store_tag_each(struct db *db, const char *region, ec2_store_tag_fn *fn, void *arg);

#endif
