/*
 * dlopen on first use for the libraries an idle server never touches (see lazylib.h). No
 * library-specific knowledge: the tables of names and slots come from each library's shim.
 */
#include "emulator/common.h"
#include "emulator/lazylib.h"

#include "emulator/log.h"

#include <dlfcn.h>

/* dlopen(name); on failure keeps dlerror()'s reason in why. */
static void *
open_one(const char *name, char *why, size_t whysz)
{
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, whysz, "%s", e ? e : "not found");
    }
    return h;
}

static void
load(struct lazylib *l)
{
    char why[sizeof(l->why) - 64];
    void *h = open_one(l->soname, why, sizeof(why));
    if (!h && l->libdir && *l->libdir) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", l->libdir, l->soname);
        h = open_one(path, why, sizeof(why));
    }
    if (!h) {
        snprintf(l->why, sizeof(l->why), "cannot load %s: %s", l->soname, why);
        l->state = LAZYLIB_FAILED;
        return;
    }
    for (size_t i = 0; l->names[i]; i++) {
        (void)dlerror();
        void *sym = dlsym(h, l->names[i]);
        if (!sym) {
            snprintf(l->why, sizeof(l->why), "%s lacks %s", l->soname, l->names[i]);
            l->state = LAZYLIB_FAILED;
            /* Not closed: a library some symbol of which was resolved stays as it was. */
            return;
        }
        *l->slots[i] = sym;
    }
    l->state = LAZYLIB_LOADED;
}

int
lazylib_load(struct lazylib *l)
{
    if (l->state == LAZYLIB_UNTRIED)
        load(l);
    if (l->state == LAZYLIB_LOADED)
        return 0;
    log_error("%s", l->why);
    return -1;
}
