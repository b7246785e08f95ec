/*
 * libarchive, loaded on first use (emulator/lazylib.h): only image import from a tarball
 * (layers.c) reads archives, so a server that never imports one never maps libarchive nor
 * its compression libraries. Include this instead of <archive.h> and call archivelib_load()
 * before the first libarchive call; the calls themselves are written as usual.
 */
#ifndef FB_EC2_ARCHIVELIB_H
#define FB_EC2_ARCHIVELIB_H

#include "emulator/common.h"
#include "emulator/aws_err.h"

#include <archive.h>
#include <archive_entry.h>

/* Every libarchive function fogbank calls. Types come from the headers. */
#define ARCHIVELIB_FUNCS(X)                                                                        \
    X(archive_entry_atime)                                                                         \
    X(archive_entry_atime_is_set)                                                                  \
    X(archive_entry_atime_nsec)                                                                    \
    X(archive_entry_filetype)                                                                      \
    X(archive_entry_gid)                                                                           \
    X(archive_entry_hardlink)                                                                      \
    X(archive_entry_mtime)                                                                         \
    X(archive_entry_mtime_nsec)                                                                    \
    X(archive_entry_pathname)                                                                      \
    X(archive_entry_perm)                                                                          \
    X(archive_entry_size)                                                                          \
    X(archive_entry_symlink)                                                                       \
    X(archive_entry_uid)                                                                           \
    X(archive_entry_xattr_next)                                                                    \
    X(archive_entry_xattr_reset)                                                                   \
    X(archive_error_string)                                                                        \
    X(archive_read_data_block)                                                                     \
    X(archive_read_free)                                                                           \
    X(archive_read_new)                                                                            \
    X(archive_read_next_header)                                                                    \
    X(archive_read_open_filename)                                                                  \
    X(archive_read_support_filter_gzip)                                                            \
    X(archive_read_support_format_gnutar)                                                          \
    X(archive_read_support_format_tar)

/* The resolved functions, each typed from the header's own prototype. */
struct archivelib {
#define ARCHIVELIB_FIELD(f) __typeof__(f) *f; /* libarchive's f */
    ARCHIVELIB_FUNCS(ARCHIVELIB_FIELD)
#undef ARCHIVELIB_FIELD
};
extern struct archivelib archivelib_fn;

/*
 * Loads libarchive the first time. 0 when usable; -1 with err set to InternalError (the log
 * line names the library and why it could not be loaded), on every call once loading failed.
 */
int archivelib_load(struct aws_err *err);

/* Past this point a libarchive call goes through the table; before archivelib_load() it
   crashes. A function missing from ARCHIVELIB_FUNCS fails to link, as nothing provides it.
   The members share the functions' names, so code including this header reaches them only by
   calling. */
#ifndef ARCHIVELIB_IMPL
#define archive_entry_atime                (*archivelib_fn.archive_entry_atime)
#define archive_entry_atime_is_set         (*archivelib_fn.archive_entry_atime_is_set)
#define archive_entry_atime_nsec           (*archivelib_fn.archive_entry_atime_nsec)
#define archive_entry_filetype             (*archivelib_fn.archive_entry_filetype)
#define archive_entry_gid                  (*archivelib_fn.archive_entry_gid)
#define archive_entry_hardlink             (*archivelib_fn.archive_entry_hardlink)
#define archive_entry_mtime                (*archivelib_fn.archive_entry_mtime)
#define archive_entry_mtime_nsec           (*archivelib_fn.archive_entry_mtime_nsec)
#define archive_entry_pathname             (*archivelib_fn.archive_entry_pathname)
#define archive_entry_perm                 (*archivelib_fn.archive_entry_perm)
#define archive_entry_size                 (*archivelib_fn.archive_entry_size)
#define archive_entry_symlink              (*archivelib_fn.archive_entry_symlink)
#define archive_entry_uid                  (*archivelib_fn.archive_entry_uid)
#define archive_entry_xattr_next           (*archivelib_fn.archive_entry_xattr_next)
#define archive_entry_xattr_reset          (*archivelib_fn.archive_entry_xattr_reset)
#define archive_error_string               (*archivelib_fn.archive_error_string)
#define archive_read_data_block            (*archivelib_fn.archive_read_data_block)
#define archive_read_free                  (*archivelib_fn.archive_read_free)
#define archive_read_new                   (*archivelib_fn.archive_read_new)
#define archive_read_next_header           (*archivelib_fn.archive_read_next_header)
#define archive_read_open_filename         (*archivelib_fn.archive_read_open_filename)
#define archive_read_support_filter_gzip   (*archivelib_fn.archive_read_support_filter_gzip)
#define archive_read_support_format_gnutar (*archivelib_fn.archive_read_support_format_gnutar)
#define archive_read_support_format_tar    (*archivelib_fn.archive_read_support_format_tar)
#endif

#endif
