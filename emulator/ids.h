/*
 * Identifiers: request ids, UUIDs and AWS-style resource ids ("i-0123456789abcdef0"), from
 * one PRNG that --seed makes reproducible. Nothing here knows which service uses them.
 */
#ifndef FB_IDS_H
#define FB_IDS_H

#include "common.h"

struct ids;

/* A generator seeded with seed; seed 0 draws a random seed from the OS. */
struct ids *ids_new(uint64_t seed);
void ids_free(struct ids *ids);
uint64_t ids_next(struct ids *ids);
/* Writes a lower-case RFC 4122 version-4 UUID (36 chars + NUL). */
void ids_uuid(struct ids *ids, char out[37]);
/* Writes prefix + "-" + n lower-case hex digits, e.g. ids_resource(ids, "i", 17, out). */
void ids_resource(struct ids *ids, const char *prefix, size_t n, char *out, size_t outsz);

#endif
