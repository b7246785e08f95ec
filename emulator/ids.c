/*
 * The id generator: xoshiro256** seeded through splitmix64, so that --seed N gives the same
 * ids in the same order on every run. It must not read the clock.
 */
#include "common.h"
#include "ids.h"

#include <sys/random.h>

struct ids {
    uint64_t s[4]; /* xoshiro256** state, never all zero */
};

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct ids *
ids_new(uint64_t seed)
{
    struct ids *ids = xcalloc(1, sizeof(*ids));
    if (seed == 0 && getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)(uintptr_t)ids ^ 0x5eedf06bacULL;
    for (size_t i = 0; i < 4; i++)
        ids->s[i] = splitmix64(&seed);
    return ids;
}

void
ids_free(struct ids *ids)
{
    free(ids);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
ids_next(struct ids *ids)
{
    uint64_t *s = ids->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static const char hex[] = "0123456789abcdef";

void
ids_uuid(struct ids *ids, char out[37])
{
    uint64_t hi = ids_next(ids), lo = ids_next(ids);
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void
ids_resource(struct ids *ids, const char *prefix, size_t n, char *out, size_t outsz)
{
    size_t o = (size_t)snprintf(out, outsz, "%s-", prefix);
    uint64_t r = 0;
    for (size_t i = 0; i < n && o + 1 < outsz; i++) {
        if (i % 16 == 0)
            r = ids_next(ids);
        out[o++] = hex[r & 15];
        r >>= 4;
    }
    out[o < outsz ? o : outsz - 1] = '\0';
}
