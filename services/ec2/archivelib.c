/*
 * The libarchive function table and its loader (see archivelib.h). Only the SONAME and the
 * list of names live here; the dlopen plumbing is emulator/lazylib.c.
 */
#define ARCHIVELIB_IMPL
#include "emulator/common.h"
#include "services/ec2/archivelib.h"

#include "emulator/lazylib.h"

/* libarchive's libdir from pkg-config, for a prefix the dynamic loader does not search. */
#ifndef ARCHIVELIB_DIR
#define ARCHIVELIB_DIR ""
#endif

struct archivelib archivelib_fn;

#define ARCHIVELIB_NAME(f) #f,
static const char *const names[] = { ARCHIVELIB_FUNCS(ARCHIVELIB_NAME) NULL };
#define ARCHIVELIB_SLOT(f) (void **)&archivelib_fn.f,
static void **const slots[] = { ARCHIVELIB_FUNCS(ARCHIVELIB_SLOT) };

static struct lazylib lib = {
#ifdef __APPLE__
    .soname = "libarchive.13.dylib",
#else
    .soname = "libarchive.so.13",
#endif
    .libdir = ARCHIVELIB_DIR,
    .names = names,
    .slots = slots,
};

int
archivelib_load(struct aws_err *err)
{
    if (lazylib_load(&lib) < 0)
        return aws_err_set(
                err, AWS_E_INTERNAL_ERROR,
                "This fogbank cannot read image archives: libarchive could not be loaded.");
    return 0;
}
