/*
 * Image layers on disk: copying a directory tree into a layer, extracting a tarball into
 * one, and removing trees. A layer is a plain directory read by the supervisor's overlay
 * mount as a lower layer, so it keeps overlayfs' own markers: a deleted file is a whiteout
 * (a character device 0/0 named like the file) and a directory that hides everything below
 * it is opaque (xattr trusted.overlay.opaque="y", and user.overlay.opaque="y" for overlays
 * mounted with userxattr inside a user namespace). Nothing here ever follows a symlink: the
 * trees are walked with O_NOFOLLOW file descriptors and symlinks are copied as symlinks, so a
 * link in an instance's disk or a tarball cannot make us read or write outside the tree.
 * It knows nothing of AMIs, SQL or the API.
 */
#ifndef FB_SERVICES_EC2_LAYERS_H
#define FB_SERVICES_EC2_LAYERS_H

#include "emulator/common.h"
#include "emulator/aws_err.h"

enum layer_flags {
    /* src is something a client named (an import): problems reading it, and device nodes,
       are the client's (InvalidParameterValue) rather than ours (InternalError). */
    LAYER_SRC_CLIENT = 1 << 0,
};

/*
 * Copies the contents of directory src onto directory dst (which must exist), applying
 * src as an upper layer: an entry replaces what dst has at its path (directories merge
 * unless src's is opaque), and src's whiteouts and opaque directories are kept as such, so
 * copying an overlay's upper directory into an empty dst preserves deletions, and copying
 * a stack of layers bottom-most first squashes it. Owners (when we are root), modes, times
 * and extended attributes come along; hard links become separate files; sockets are
 * skipped; a device node other than a whiteout is skipped, or refused with
 * LAYER_SRC_CLIENT. Files that vanish while we copy (a running instance) are skipped.
 * Returns 0, or -1 with err set (dst may then hold part of the copy: the caller removes it).
 */
int layer_copy_tree(const char *src, const char *dst, unsigned flags, struct aws_err *err);

/*
 * Extracts a tar archive (plain, or gzip-compressed: .tar, .tar.gz, .tgz) into directory
 * dst (which must exist). Refuses (InvalidParameterValue, naming the entry) an absolute
 * path, a ".." component, a path through a symlink or non-directory, a device node, and a
 * hard link to outside the archive; OCI whiteouts (".wh.NAME", ".wh..wh..opq") become
 * overlayfs whiteouts and opaque directories. -1 with err set; dst may then hold part of
 * the archive (the caller removes it). libarchive is loaded here on first use (InternalError
 * when it cannot be).
 */
int layer_extract_tar(const char *tarball, const char *dst, struct aws_err *err);

/* rm -rf path, never following a symlink; 0 also when path does not exist, -1 (errno). */
int layer_remove_tree(const char *path);

/* mkdir -p with mode for the directories it creates; -1 (errno) on failure. */
int layer_mkdir_p(const char *path, unsigned mode);

/* Whether path is a whiteout (character device 0/0), without following a symlink. */
bool layer_is_whiteout(const char *path);

#endif
