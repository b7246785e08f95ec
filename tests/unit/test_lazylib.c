/*
 * Loading a library on first use (emulator/lazylib.c): symbols resolved into their slots, a
 * missing library or symbol reported with the library's name and remembered, and the two real
 * shims (libxml2, libarchive) loading by their SONAMEs.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "emulator/aws_err.h"
#include "emulator/lazylib.h"
#include "emulator/log.h"
#include "emulator/protocol/xmllib.h"
#include "services/ec2/archivelib.h"

#ifdef __APPLE__
#define LIBC_SONAME "libSystem.B.dylib"
#else
#define LIBC_SONAME "libc.so.6"
#endif

static size_t (*strlen_fn)(const char *); /* slot filled from libc */
static int (*atoi_fn)(const char *);      /* slot filled from libc */

static void
test_load_resolves_every_name_into_its_slot(void **state)
{
    (void)state;
    static const char *const names[] = { "strlen", "atoi", NULL };
    void **const slots[] = { (void **)&strlen_fn, (void **)&atoi_fn };
    struct lazylib l = { .soname = LIBC_SONAME, .names = names, .slots = slots };
    assert_int_equal(lazylib_load(&l), 0);
    assert_int_equal(l.state, LAZYLIB_LOADED);
    assert_int_equal(strlen_fn("fogbank"), 7);
    assert_int_equal(atoi_fn("42"), 42);
    /* Loaded once: the next call does not touch the slots. */
    strlen_fn = NULL;
    assert_int_equal(lazylib_load(&l), 0);
    assert_null(strlen_fn);
}

static void
test_missing_library_fails_and_stays_failed(void **state)
{
    (void)state;
    static const char *const names[] = { "strlen", NULL };
    void *slot = NULL;
    void **const slots[] = { &slot };
    struct lazylib l = {
        .soname = "libfogbank-absent.so.1", .libdir = "/nonexistent", .names = names, .slots = slots
    };
    assert_int_equal(lazylib_load(&l), -1);
    assert_int_equal(l.state, LAZYLIB_FAILED);
    assert_non_null(strstr(l.why, "cannot load libfogbank-absent.so.1"));
    assert_int_equal(lazylib_load(&l), -1);
    assert_null(slot);
}

static void
test_missing_symbol_names_the_library_and_symbol(void **state)
{
    (void)state;
    static const char *const names[] = { "strlen", "fogbank_no_such_function", NULL };
    void *a = NULL, *b = NULL;
    void **const slots[] = { &a, &b };
    struct lazylib l = { .soname = LIBC_SONAME, .names = names, .slots = slots };
    assert_int_equal(lazylib_load(&l), -1);
    assert_int_equal(l.state, LAZYLIB_FAILED);
    assert_string_equal(l.why, LIBC_SONAME " lacks fogbank_no_such_function");
    assert_null(b);
}

static void
test_shims_load_libxml2_and_libarchive(void **state)
{
    (void)state;
    struct aws_err err = { 0 };
    assert_int_equal(xmllib_load(&err), 0);
    /* The calls go through the tables into the libraries' own code. */
    xmlParserCtxtPtr p = xmlNewParserCtxt();
    assert_non_null(p);
    xmlDocPtr doc = xmlCtxtReadMemory(p, "<a><b/></a>", 11, NULL, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    assert_string_equal((const char *)xmlDocGetRootElement(doc)->name, "a");
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(p);
    assert_int_equal(archivelib_load(&err), 0);
    struct archive *a = archive_read_new();
    assert_non_null(a);
    assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

int
main(void)
{
    log_set_quiet(true);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_resolves_every_name_into_its_slot),
        cmocka_unit_test(test_missing_library_fails_and_stays_failed),
        cmocka_unit_test(test_missing_symbol_names_the_library_and_symbol),
        cmocka_unit_test(test_shims_load_libxml2_and_libarchive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
