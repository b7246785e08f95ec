/*
 * Shared libraries loaded on first use (dlopen) instead of at exec, so an idle server maps
 * only what it runs: libxml2 (restxml bodies) and libarchive (image import) cost ~2.4 MiB of
 * resident pages and start-up time otherwise. Holds the dlopen/dlsym plumbing only; each
 * library's function table lives next to its one user (emulator/protocol/xmllib.h,
 * services/ec2/archivelib.h).
 *
 * A library is opened once, RTLD_NOW | RTLD_LOCAL, and never closed: its code stays mapped
 * for the life of the process, so ASan/LSan reports and debuggers symbolize through it as
 * they would through a linked library. Everything here runs on the loop thread.
 */
#ifndef FB_LAZYLIB_H
#define FB_LAZYLIB_H

#include "common.h"

enum lazylib_state {
    LAZYLIB_UNTRIED = 0, /* not opened yet */
    LAZYLIB_LOADED,      /* opened, every symbol resolved */
    LAZYLIB_FAILED,      /* could not be opened or lacks a symbol; why says which */
};

/* One library; a static struct per library, zero-initialised but for its names. */
struct lazylib {
    const char *soname;       /* the runtime SONAME, e.g. "libxml2.so.2" (objdump -p) */
    const char *libdir;       /* tried as libdir/soname when the bare name is not found (a
                                 Homebrew keg on macOS); NULL or "" for none */
    const char *const *names; /* the functions to resolve, NULL-terminated */
    void **const *slots;      /* where each name's address goes, as many as names: the
                                 function pointers of the shim's table (POSIX's dlsym idiom
                                 `*(void **)&fn = dlsym(...)`) */
    enum lazylib_state state; /* where loading got to */
    char why[256];            /* when FAILED: the library and dlerror()'s reason */
};

/*
 * Opens l and resolves all of l->names into l->slots the first time; afterwards returns
 * what the first call did. 0 when every symbol is there; -1 with a log line naming the
 * library and the reason (every call, so each failing request is explained in the log).
 */
int lazylib_load(struct lazylib *l);

#endif
