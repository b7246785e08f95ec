/*
 * Image layers on disk: copy a tree into a layer, extract a tarball into one, remove a
 * tree, all through O_NOFOLLOW directory file descriptors so no symlink is ever followed
 * (see layers.h for the on-disk format). No AMI rules, no SQL.
 */
#include "emulator/common.h"
#include "services/ec2/layers.h"

#include "emulator/buf.h"
#include "emulator/log.h"
#include "services/ec2/archivelib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Directory levels we descend at most; each holds two descriptors while we are below it. */
#define LAYER_MAX_DEPTH 200

#define OPAQUE_TRUSTED   "trusted.overlay.opaque"
#define OPAQUE_USER      "user.overlay.opaque"
#define WHITEOUT_TRUSTED "trusted.overlay.whiteout"
#define WHITEOUT_USER    "user.overlay.whiteout"

/* ---- small helpers ---- */

static bool
stat_is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

bool
layer_is_whiteout(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && stat_is_whiteout(&st);
}

/* overlayfs writes "y" (and "x" for a directory holding xattr whiteouts, Linux 6.7+). */
static bool
fd_is_opaque(int fd)
{
    char v[2];
    ssize_t n = fgetxattr(fd, OPAQUE_TRUSTED, v, sizeof(v));
    if (n == 1 && (v[0] == 'y' || v[0] == 'x'))
        return true;
    n = fgetxattr(fd, OPAQUE_USER, v, sizeof(v));
    return n == 1 && (v[0] == 'y' || v[0] == 'x');
}

/* Both namespaces: which one counts depends on how the supervisor mounts the overlay. */
static int
fd_set_opaque(int fd)
{
    int a = fsetxattr(fd, OPAQUE_TRUSTED, "y", 1, 0);
    int b = fsetxattr(fd, OPAQUE_USER, "y", 1, 0);
    return a == 0 || b == 0 ? 0 : -1;
}

/* A regular file carrying overlayfs' xattr whiteout marker (layers built for nesting). */
static bool
fd_is_xattr_whiteout(int fd)
{
    return fgetxattr(fd, WHITEOUT_TRUSTED, NULL, 0) >= 0 ||
           fgetxattr(fd, WHITEOUT_USER, NULL, 0) >= 0;
}

static bool
is_overlay_xattr(const char *name)
{
    return str_starts(name, "trusted.overlay.") || str_starts(name, "user.overlay.");
}

/* Copies the extended attributes that are not overlayfs' own; ones we may not set are
   dropped (trusted.* needs CAP_SYS_ADMIN, some filesystems take no user.*). */
static void
copy_xattrs(int sfd, int dfd)
{
    ssize_t n = flistxattr(sfd, NULL, 0);
    if (n <= 0)
        return;
    char *names = xmalloc((size_t)n);
    n = flistxattr(sfd, names, (size_t)n);
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
        const char *name = names + off;
        if (is_overlay_xattr(name))
            continue;
        ssize_t vn = fgetxattr(sfd, name, NULL, 0);
        if (vn < 0)
            continue;
        char *value = xmalloc((size_t)vn + 1);
        vn = fgetxattr(sfd, name, value, (size_t)vn);
        if (vn >= 0)
            (void)fsetxattr(dfd, name, value, (size_t)vn, 0);
        free(value);
    }
    free(names);
}

/* Owner (root only: others may not give files away), mode, then times: chown clears
   set-id bits and file capabilities, so the mode comes after it. */
static void
apply_meta_fd(int fd, const struct stat *st, bool as_root)
{
    if (as_root)
        (void)fchown(fd, st->st_uid, st->st_gid);
    (void)fchmod(fd, st->st_mode & 07777);
}

static void
apply_times_fd(int fd, const struct stat *st)
{
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    (void)futimens(fd, ts);
}

/* The names in a directory (not "." and ".."), read before any is processed so that only
   two descriptors per level stay open. NULL-terminated, free with free_names(). */
static char **
read_names(int dirfd)
{
    int fd = dup(dirfd);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return NULL;
    }
    size_t n = 0, alloc = 8;
    char **names = xmalloc(alloc * sizeof(*names));
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n + 1 >= alloc) {
            alloc *= 2;
            names = xrealloc(names, alloc * sizeof(*names));
        }
        names[n++] = xstrdup(de->d_name);
    }
    names[n] = NULL;
    closedir(d);
    return names;
}

static void
free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* ---- removal ---- */

static int
remove_at(int dirfd, const char *name, int depth)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    if (depth > LAYER_MAX_DEPTH) {
        errno = ELOOP;
        return -1;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* A read-only directory (0555) cannot be emptied by its non-root owner otherwise. */
    if (!(st.st_mode & S_IWUSR) || !(st.st_mode & S_IXUSR))
        (void)fchmod(fd, 0700);
    char **names = read_names(fd);
    int rc = names ? 0 : -1;
    for (size_t i = 0; names && names[i] && rc == 0; i++)
        rc = remove_at(fd, names[i], depth + 1);
    free_names(names);
    close(fd);
    if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int
layer_remove_tree(const char *path)
{
    struct buf parent = BUF_INIT;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash == path)
        buf_adds(&parent, "/");
    else if (slash)
        buf_add(&parent, path, (size_t)(slash - path));
    else
        buf_adds(&parent, ".");
    int rc = -1;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        errno = EINVAL;
    } else {
        int pfd = open(parent.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd >= 0) {
            rc = remove_at(pfd, base, 0);
            int saved = errno;
            close(pfd);
            errno = saved;
        } else if (errno == ENOENT) {
            rc = 0;
        }
    }
    buf_release(&parent);
    return rc;
}

int
layer_mkdir_p(const char *path, unsigned mode)
{
    struct buf p = BUF_INIT;
    buf_adds(&p, path);
    int rc = 0;
    for (char *s = p.data + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p.data, (mode_t)mode) < 0 && errno != EEXIST)
            rc = -1;
        *s = c;
        if (c == '\0')
            break;
    }
    buf_release(&p);
    return rc;
}

/* ---- copying a tree ---- */

struct copy_ctx {
    unsigned flags;      /* enum layer_flags */
    bool as_root;        /* we may chown */
    struct buf rel;      /* path of the entry being copied, relative to src, for messages */
    const char *src;     /* the source root, for messages */
    struct aws_err *err; /* set on failure */
};

/* A failure reading the source: the client's when it named the source. */
static int
src_fail(struct copy_ctx *c, const char *what)
{
    int e = errno;
    if (c->flags & LAYER_SRC_CLIENT)
        return aws_err_set(c->err, AWS_E_INVALID_PARAMETER_VALUE, "Cannot %s %s/%s: %s", what,
                           c->src, c->rel.data, strerror(e));
    log_error("layers: cannot %s %s/%s: %s", what, c->src, c->rel.data, strerror(e));
    return aws_err_set(c->err, AWS_E_INTERNAL_ERROR, "Could not read the disk to copy.");
}

static int
dst_fail(struct copy_ctx *c, const char *what)
{
    log_error("layers: cannot %s %s: %s", what, c->rel.data, strerror(errno));
    return aws_err_set(c->err, AWS_E_INTERNAL_ERROR, "Could not write the image layer.");
}

static int
copy_data(int sfd, int dfd)
{
    char *block = xmalloc(1 << 16);
    int rc = 0;
    for (;;) {
        ssize_t n = read(sfd, block, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(dfd, block + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -2;
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    free(block);
    return rc;
}

static int copy_dir_contents(struct copy_ctx *c, int sfd, int dfd, int depth);

static int
make_whiteout(struct copy_ctx *c, int dfd, const char *name)
{
    if (remove_at(dfd, name, 0) < 0)
        return dst_fail(c, "replace");
    /* Since Linux 5.8 anyone may create a 0/0 character device (a whiteout). */
    if (mknodat(dfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
        return dst_fail(c, "create the whiteout");
    return 0;
}

static int
copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *name, const struct stat *st, int depth)
{
    if (depth >= LAYER_MAX_DEPTH) {
        errno = ELOOP;
        return src_fail(c, "descend into");
    }
    int sub = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
        return errno == ENOENT ? 0 : src_fail(c, "open");
    bool opaque = fd_is_opaque(sub);
    struct stat dst_st;
    bool exists = fstatat(dfd, name, &dst_st, AT_SYMLINK_NOFOLLOW) == 0;
    /* An opaque directory hides what is below it, so it replaces rather than merges. */
    if (exists && (opaque || !S_ISDIR(dst_st.st_mode))) {
        if (remove_at(dfd, name, 0) < 0) {
            close(sub);
            return dst_fail(c, "replace");
        }
        exists = false;
    }
    if (!exists && mkdirat(dfd, name, 0700) < 0) {
        close(sub);
        return dst_fail(c, "create the directory");
    }
    int dsub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dsub < 0) {
        close(sub);
        return dst_fail(c, "open the directory");
    }
    int rc = copy_dir_contents(c, sub, dsub, depth + 1);
    if (rc == 0 && opaque && fd_set_opaque(dsub) < 0)
        rc = dst_fail(c, "mark opaque");
    if (rc == 0) {
        apply_meta_fd(dsub, st, c->as_root);
        copy_xattrs(sub, dsub);
        apply_times_fd(dsub, st);
    }
    close(sub);
    close(dsub);
    return rc;
}

static int
copy_file(struct copy_ctx *c, int sfd, int dfd, const char *name, const struct stat *st)
{
    int sub = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (sub < 0)
        return errno == ENOENT ? 0 : src_fail(c, "open");
    if (st->st_size == 0 && fd_is_xattr_whiteout(sub)) {
        close(sub);
        return make_whiteout(c, dfd, name);
    }
    if (remove_at(dfd, name, 0) < 0) {
        close(sub);
        return dst_fail(c, "replace");
    }
    int dsub = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (dsub < 0) {
        close(sub);
        return dst_fail(c, "create");
    }
    int rc = copy_data(sub, dsub);
    if (rc == -1)
        rc = src_fail(c, "read");
    else if (rc == -2)
        rc = dst_fail(c, "write");
    if (rc == 0) {
        apply_meta_fd(dsub, st, c->as_root);
        copy_xattrs(sub, dsub);
        apply_times_fd(dsub, st);
    }
    close(sub);
    close(dsub);
    return rc;
}

static int
copy_symlink(struct copy_ctx *c, int sfd, int dfd, const char *name, const struct stat *st)
{
    size_t size = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
    char *target = NULL;
    ssize_t n;
    for (;;) {
        target = xrealloc(target, size);
        n = readlinkat(sfd, name, target, size);
        if (n < 0 || (size_t)n < size)
            break;
        size *= 2;
    }
    if (n < 0) {
        free(target);
        return errno == ENOENT ? 0 : src_fail(c, "read the link");
    }
    target[n] = '\0';
    int rc = 0;
    if (remove_at(dfd, name, 0) < 0)
        rc = dst_fail(c, "replace");
    else if (symlinkat(target, dfd, name) < 0)
        rc = dst_fail(c, "create the link");
    free(target);
    if (rc == 0) {
        if (c->as_root)
            (void)fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        (void)utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
    }
    return rc;
}

static int
copy_fifo(struct copy_ctx *c, int dfd, const char *name, const struct stat *st)
{
    if (remove_at(dfd, name, 0) < 0)
        return dst_fail(c, "replace");
    if (mkfifoat(dfd, name, st->st_mode & 07777) < 0)
        return dst_fail(c, "create the fifo");
    if (c->as_root)
        (void)fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    (void)utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static int
copy_entry(struct copy_ctx *c, int sfd, int dfd, const char *name, int depth)
{
    size_t mark = c->rel.len;
    if (c->rel.len)
        buf_addc(&c->rel, '/');
    buf_adds(&c->rel, name);

    struct stat st;
    int rc = 0;
    if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        /* Gone since we listed the directory: the instance is still running. */
        rc = errno == ENOENT ? 0 : src_fail(c, "stat");
    } else if (stat_is_whiteout(&st)) {
        rc = make_whiteout(c, dfd, name);
    } else if (S_ISDIR(st.st_mode)) {
        rc = copy_dir(c, sfd, dfd, name, &st, depth);
    } else if (S_ISREG(st.st_mode)) {
        rc = copy_file(c, sfd, dfd, name, &st);
    } else if (S_ISLNK(st.st_mode)) {
        rc = copy_symlink(c, sfd, dfd, name, &st);
    } else if (S_ISFIFO(st.st_mode)) {
        rc = copy_fifo(c, dfd, name, &st);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        if (c->flags & LAYER_SRC_CLIENT)
            rc = aws_err_set(c->err, AWS_E_INVALID_PARAMETER_VALUE,
                             "Refusing to import %s/%s: an image may not contain device nodes.",
                             c->src, c->rel.data);
        else
            log_info("layers: skipping the device node %s/%s", c->src, c->rel.data);
    }
    /* Sockets belong to a process that is not in the image: nothing to keep. */
    c->rel.len = mark;
    c->rel.data[mark] = '\0';
    return rc;
}

static int
copy_dir_contents(struct copy_ctx *c, int sfd, int dfd, int depth)
{
    char **names = read_names(sfd);
    if (!names)
        return src_fail(c, "list");
    int rc = 0;
    for (size_t i = 0; names[i] && rc == 0; i++)
        rc = copy_entry(c, sfd, dfd, names[i], depth);
    free_names(names);
    return rc;
}

int
layer_copy_tree(const char *src, const char *dst, unsigned flags, struct aws_err *err)
{
    struct copy_ctx c = { .flags = flags, .as_root = geteuid() == 0, .src = src, .err = err };
    buf_init(&c.rel);
    int rc = 0;
    int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
        return src_fail(&c, "open the directory");
    int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        close(sfd);
        return dst_fail(&c, "open the layer");
    }
    rc = copy_dir_contents(&c, sfd, dfd, 0);
    close(sfd);
    close(dfd);
    buf_release(&c.rel);
    return rc;
}

/* ---- extracting a tarball ---- */

/* A directory whose final mode and times are set once everything below it is written. */
struct dir_fixup {
    char *rel;             /* normalised path inside the layer */
    mode_t mode;           /* permission bits */
    uid_t uid;             /* owner, applied when root */
    gid_t gid;             /* group, applied when root */
    struct timespec mtime; /* modification time */
    bool opaque;           /* carried overlayfs' opaque marker in a pax xattr */
};

struct tar_ctx {
    const char *tarball;      /* for messages */
    int root;                 /* the layer directory */
    bool as_root;             /* we may chown */
    struct dir_fixup *fixups; /* directories seen, n_fixups of them */
    size_t n_fixups;
    size_t alloc_fixups;
    struct aws_err *err; /* set on failure */
};

static int
tar_refuse(struct tar_ctx *t, const char *entry, const char *why)
{
    return aws_err_set(t->err, AWS_E_INVALID_PARAMETER_VALUE,
                       "Refusing to import %s: entry \"%s\" %s; nothing was imported.", t->tarball,
                       entry, why);
}

static int
tar_fail(struct tar_ctx *t, const char *entry, const char *what)
{
    log_error("layers: %s: cannot %s %s: %s", t->tarball, what, entry, strerror(errno));
    return aws_err_set(t->err, AWS_E_INTERNAL_ERROR, "Could not write the image layer.");
}

/*
 * Normalises an archive path into out ("./a//b/" -> "a/b"). Returns 0, 1 for the archive
 * root itself, or -1 with the reason in *why for a path that would leave the layer.
 */
static int
tar_normalise(const char *name, struct buf *out, const char **why)
{
    buf_reset(out);
    if (!name || !*name) {
        *why = "has no name";
        return -1;
    }
    if (name[0] == '/') {
        *why = "is an absolute path";
        return -1;
    }
    const char *p = name;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            *why = "has a \"..\" component";
            return -1;
        }
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (out->len)
                buf_addc(out, '/');
            buf_add(out, p, n);
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return out->len ? 0 : 1;
}

/*
 * The directory holding the last component of rel (a normalised path), as an fd; the last
 * component into *base. Missing directories are created when `create`; a component that is
 * a symlink or not a directory is refused (-2, why set), other failures are -1 (errno).
 */
static int
tar_open_parent(struct tar_ctx *t, const char *rel, bool create, const char **base,
                const char **why)
{
    int fd = dup(t->root);
    if (fd < 0)
        return -1;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash) {
            *base = p;
            return fd;
        }
        char *comp = xstrndup(p, (size_t)(slash - p));
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0755) == 0 || errno == EEXIST)
                next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        free(comp);
        close(fd);
        if (next < 0) {
            if (e == ELOOP || e == ENOTDIR || (e == ENOENT && !create)) {
                *why = e == ENOENT ? "links to a path the archive does not hold"
                                   : "would be written through a symlink or a non-directory";
                return -2;
            }
            errno = e;
            return -1;
        }
        fd = next;
        p = slash + 1;
    }
}

static void
tar_add_fixup(struct tar_ctx *t, const char *rel, struct archive_entry *e, bool opaque)
{
    if (t->n_fixups == t->alloc_fixups) {
        t->alloc_fixups = t->alloc_fixups ? t->alloc_fixups * 2 : 16;
        t->fixups = xrealloc(t->fixups, t->alloc_fixups * sizeof(*t->fixups));
    }
    struct dir_fixup *f = &t->fixups[t->n_fixups++];
    f->rel = xstrdup(rel);
    f->mode = archive_entry_perm(e) & 07777;
    f->uid = (uid_t)archive_entry_uid(e);
    f->gid = (gid_t)archive_entry_gid(e);
    f->mtime.tv_sec = archive_entry_mtime(e);
    f->mtime.tv_nsec = archive_entry_mtime_nsec(e);
    f->opaque = opaque;
}

static bool
entry_has_opaque_xattr(struct archive_entry *e)
{
    const char *name;
    const void *value;
    size_t size;
    bool opaque = false;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if ((strcmp(name, OPAQUE_TRUSTED) == 0 || strcmp(name, OPAQUE_USER) == 0) && size >= 1 &&
            ((const char *)value)[0] == 'y')
            opaque = true;
    }
    return opaque;
}

static void
entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[0].tv_sec = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
    ts[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : 0;
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = archive_entry_mtime_nsec(e);
}

static int
tar_write_file(struct tar_ctx *t, struct archive *a, struct archive_entry *e, int pfd,
               const char *base, const char *rel)
{
    if (remove_at(pfd, base, 0) < 0)
        return tar_fail(t, rel, "replace");
    int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return tar_fail(t, rel, "create");
    int rc = 0;
    const void *block;
    size_t size;
    la_int64_t offset;
    int r;
    while ((r = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
        const char *b = block;
        /* pwrite at the block's offset: sparse entries leave holes. */
        for (size_t off = 0; off < size && rc == 0;) {
            ssize_t w = pwrite(fd, b + off, size - off, (off_t)offset + (off_t)off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                rc = tar_fail(t, rel, "write");
            else
                off += (size_t)w;
        }
        if (rc)
            break;
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = aws_err_set(t->err, AWS_E_INVALID_PARAMETER_VALUE,
                         "Cannot read %s: %s (entry \"%s\").", t->tarball,
                         archive_error_string(a) ? archive_error_string(a) : "corrupt archive",
                         rel);
    /* The archive's size wins over what was written (a sparse tail). */
    if (rc == 0 && ftruncate(fd, (off_t)archive_entry_size(e)) < 0)
        rc = tar_fail(t, rel, "size");
    if (rc == 0) {
        if (t->as_root)
            (void)fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e));
        (void)fchmod(fd, archive_entry_perm(e) & 07777);
        struct timespec ts[2];
        entry_times(e, ts);
        (void)futimens(fd, ts);
    }
    close(fd);
    return rc;
}

/* One archive entry; rel is its normalised path. */
static int
tar_entry(struct tar_ctx *t, struct archive *a, struct archive_entry *e, const char *rel)
{
    const char *why = NULL, *base = NULL;
    const char *hardlink = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);

    if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK))
        return tar_refuse(t, archive_entry_pathname(e), "is a device node");
    if (!hardlink && type == AE_IFSOCK)
        return 0;

    int pfd = tar_open_parent(t, rel, true, &base, &why);
    if (pfd == -2)
        return tar_refuse(t, archive_entry_pathname(e), why);
    if (pfd < 0)
        return tar_fail(t, rel, "open the directory of");

    int rc = 0;
    if (hardlink) {
        struct buf target = BUF_INIT;
        const char *tbase = NULL;
        int tr = tar_normalise(hardlink, &target, &why);
        if (tr != 0) {
            rc = tar_refuse(t, archive_entry_pathname(e),
                            tr > 0 ? "is a hard link to the archive root" : why);
        } else if (strcmp(target.data, rel) == 0) {
            rc = tar_refuse(t, archive_entry_pathname(e), "is a hard link to itself");
        } else {
            int tfd = tar_open_parent(t, target.data, false, &tbase, &why);
            if (tfd == -2)
                rc = tar_refuse(t, archive_entry_pathname(e), why);
            else if (tfd < 0)
                rc = tar_fail(t, rel, "open the link target of");
            else {
                struct stat st;
                if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
                    rc = tar_refuse(t, archive_entry_pathname(e),
                                    "links to a path the archive does not hold");
                else if (remove_at(pfd, base, 0) < 0)
                    rc = tar_fail(t, rel, "replace");
                /* No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself. */
                else if (linkat(tfd, tbase, pfd, base, 0) < 0)
                    rc = tar_fail(t, rel, "link");
                close(tfd);
            }
        }
        buf_release(&target);
    } else if (type == AE_IFDIR) {
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
            remove_at(pfd, base, 0) < 0)
            rc = tar_fail(t, rel, "replace");
        else if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
            rc = tar_fail(t, rel, "create");
        if (rc == 0)
            tar_add_fixup(t, rel, e, entry_has_opaque_xattr(e));
    } else if (type == AE_IFREG && strcmp(base, ".wh..wh..opq") == 0) {
        /* OCI: the directory holding this marker is opaque. */
        if (fd_set_opaque(pfd) < 0)
            rc = tar_fail(t, rel, "mark opaque");
    } else if (type == AE_IFREG && str_starts(base, ".wh.") && base[4]) {
        /* OCI: ".wh.NAME" deletes NAME from the layers below. */
        if (strcmp(base + 4, "..") == 0 || strcmp(base + 4, ".") == 0)
            rc = tar_refuse(t, archive_entry_pathname(e), "is a whiteout of \".\" or \"..\"");
        else if (remove_at(pfd, base + 4, 0) < 0)
            rc = tar_fail(t, rel, "replace");
        else if (mknodat(pfd, base + 4, S_IFCHR | 0000, makedev(0, 0)) < 0)
            rc = tar_fail(t, rel, "create the whiteout");
    } else if (type == AE_IFREG) {
        rc = tar_write_file(t, a, e, pfd, base, rel);
    } else if (type == AE_IFLNK) {
        /* The target is kept as written: it is resolved inside the instance's root, never
           by us. */
        const char *target = archive_entry_symlink(e);
        struct timespec ts[2];
        entry_times(e, ts);
        if (!target)
            rc = tar_refuse(t, archive_entry_pathname(e), "is a symlink without a target");
        else if (remove_at(pfd, base, 0) < 0)
            rc = tar_fail(t, rel, "replace");
        else if (symlinkat(target, pfd, base) < 0)
            rc = tar_fail(t, rel, "create the link");
        else {
            if (t->as_root)
                (void)fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                               AT_SYMLINK_NOFOLLOW);
            (void)utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
        }
    } else if (type == AE_IFIFO) {
        if (remove_at(pfd, base, 0) < 0)
            rc = tar_fail(t, rel, "replace");
        else if (mkfifoat(pfd, base, archive_entry_perm(e) & 07777) < 0)
            rc = tar_fail(t, rel, "create the fifo");
    }
    close(pfd);
    return rc;
}

/* Applies the directories' modes, owners, times and opaque markers, deepest first so a
   directory's time is set after its children stopped changing it. */
static int
tar_apply_fixups(struct tar_ctx *t)
{
    for (size_t i = t->n_fixups; i-- > 0;) {
        struct dir_fixup *f = &t->fixups[i];
        const char *base = NULL, *why = NULL;
        int pfd = tar_open_parent(t, f->rel, false, &base, &why);
        if (pfd < 0)
            continue; /* replaced by a later entry */
        int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(pfd);
        if (fd < 0)
            continue;
        int rc = 0;
        if (f->opaque && fd_set_opaque(fd) < 0)
            rc = tar_fail(t, f->rel, "mark opaque");
        if (t->as_root)
            (void)fchown(fd, f->uid, f->gid);
        (void)fchmod(fd, f->mode);
        struct timespec ts[2] = { f->mtime, f->mtime };
        (void)futimens(fd, ts);
        close(fd);
        if (rc)
            return rc;
    }
    return 0;
}

int
layer_extract_tar(const char *tarball, const char *dst, struct aws_err *err)
{
    if (archivelib_load(err) < 0)
        return -1;
    struct tar_ctx t = { .tarball = tarball, .as_root = geteuid() == 0, .err = err };
    t.root = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (t.root < 0) {
        log_error("layers: cannot open %s: %s", dst, strerror(errno));
        return aws_err_set(err, AWS_E_INTERNAL_ERROR, "Could not write the image layer.");
    }
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    /* Only compressions libarchive decodes in-process: ARCHIVE_WARN would mean it runs an
       external gzip, and only the supervisor may start processes. */
    int rc = 0;
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK) {
        log_error("layers: libarchive lacks built-in gzip support");
        rc = aws_err_set(err, AWS_E_INTERNAL_ERROR, "This fogbank cannot read gzip archives.");
    }
    if (rc == 0 && archive_read_open_filename(a, tarball, 1 << 16) != ARCHIVE_OK)
        rc = aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "Cannot read %s: %s", tarball,
                         archive_error_string(a) ? archive_error_string(a) : "unreadable");
    struct buf rel = BUF_INIT;
    struct archive_entry *e;
    while (rc == 0) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                             "Cannot read %s as a tar archive: %s", tarball,
                             archive_error_string(a) ? archive_error_string(a) : "corrupt");
            break;
        }
        const char *why = NULL;
        const char *name = archive_entry_pathname(e);
        int nr = tar_normalise(name, &rel, &why);
        if (nr < 0)
            rc = tar_refuse(&t, name ? name : "", why);
        else if (nr == 0)
            rc = tar_entry(&t, a, e, rel.data);
        /* nr == 1: the archive root ("./"); the layer directory stands for it. */
    }
    if (rc == 0)
        rc = tar_apply_fixups(&t);
    buf_release(&rel);
    for (size_t i = 0; i < t.n_fixups; i++)
        free(t.fixups[i].rel);
    free(t.fixups);
    archive_read_free(a);
    close(t.root);
    return rc;
}
