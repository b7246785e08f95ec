/*
 * The libxml2 function table and its loader (see xmllib.h). Only the SONAME and the list of
 * names live here; the dlopen plumbing is emulator/lazylib.c.
 */
#define XMLLIB_IMPL
#include "emulator/common.h"
#include "emulator/protocol/xmllib.h"

#include "emulator/lazylib.h"

/* libxml2's libdir from pkg-config, for a prefix the dynamic loader does not search. */
#ifndef XMLLIB_DIR
#define XMLLIB_DIR ""
#endif

struct xmllib xmllib_fn;

#define XMLLIB_NAME(f) #f,
static const char *const names[] = { XMLLIB_FUNCS(XMLLIB_NAME) NULL };
#define XMLLIB_SLOT(f) (void **)&xmllib_fn.f,
static void **const slots[] = { XMLLIB_FUNCS(XMLLIB_SLOT) };

static struct lazylib lib = {
#ifdef __APPLE__
    .soname = "libxml2.2.dylib",
#else
    .soname = "libxml2.so.2",
#endif
    .libdir = XMLLIB_DIR,
    .names = names,
    .slots = slots,
};

int
xmllib_load(struct aws_err *err)
{
    if (lazylib_load(&lib) < 0)
        return aws_err_set(err, AWS_E_INTERNAL_ERROR,
                           "This fogbank cannot parse XML: libxml2 could not be loaded.");
    return 0;
}
