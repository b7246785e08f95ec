/*
 * Look-ups in the service table. The table itself lives in services/services.c so that the
 * emulator never includes a service header.
 */
#include "common.h"
#include "service.h"

const struct service *
service_get(const char *name)
{
    for (size_t i = 0; i < service_table_len; i++)
        if (strcmp(service_table[i]->name, name) == 0)
            return service_table[i];
    return NULL;
}

const struct service_op *
service_find_op(const struct service *s, const char *op)
{
    size_t lo = 0, hi = s->n_ops;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(op, s->ops[mid].name);
        if (c == 0)
            return &s->ops[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
