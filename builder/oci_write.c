/* SPDX-License-Identifier: Apache-2.0 */
#include "oci_write.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "tar_write.h"

#define MAX_INDEX_JSON (16u << 20)
#define COPY_BUF       (1024 * 1024)

const char wh_oci_layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

int wh_blob_dir_open(int layout_fd, struct wh_blob_dir *ret, struct wh_err *err)
{
        int fd = wh_mkdir_p_at(layout_fd, "blobs/sha256", 0755, err);
        if (fd < 0)
                return fd;
        /* wh_mkdir_p_at hands out O_PATH; renames and creates need a real fd. */
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int e = errno;
        close(fd);
        if (dfd < 0)
                return wh_fail(err, e, "open 'blobs/sha256'");
        *ret = (struct wh_blob_dir){.dfd = dfd};
        return 0;
}

void wh_blob_dir_release(struct wh_blob_dir *b)
{
        if (b->dfd >= 0)
                close(b->dfd);
        b->dfd = -1;
        for (size_t i = 0; i < b->n_added; i++)
                free(b->added[i]);
        free(b->added);
        b->added = NULL;
        b->n_added = 0;
}

void wh_blob_dir_rollback(struct wh_blob_dir *b)
{
        for (size_t i = 0; i < b->n_added; i++)
                unlinkat(b->dfd, b->added[i], 0);
}

/* A name no other writer picks: pid plus random bits, created with O_EXCL. */
static int create_tmp_at(int dfd, const char *prefix, char **ret_name, int *ret_fd,
                         struct wh_err *err)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                uint64_t rnd = 0;
                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                        rnd = (uint64_t)attempt * 0x9e3779b97f4a7c15ULL;
                _cleanup_free_ char *name = NULL;
                if (asprintf(&name, "%s%d-%016llx", prefix, (int)getpid(),
                             (unsigned long long)rnd) < 0)
                        return wh_fail(err, ENOMEM, "temporary file");
                int fd = openat(dfd, name,
                                O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0)
                        return wh_fail(err, errno, "create '%s'", name);
                *ret_name = TAKE_PTR(name);
                *ret_fd = fd;
                return 0;
        }
        return wh_failx(err, EEXIST, "no free temporary name with prefix '%s'", prefix);
}

/*
 * An unnamed file (O_TMPFILE) where the filesystem has them: a build killed
 * before the commit leaves nothing in the layout. Named otherwise.
 */
int wh_blob_tmp(struct wh_blob_dir *b, char **ret_name, int *ret_fd, struct wh_err *err)
{
        int fd = openat(b->dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (fd >= 0) {
                *ret_name = NULL;
                *ret_fd = fd;
                return 0;
        }
        return create_tmp_at(b->dfd, ".tmp-", ret_name, ret_fd, err);
}

void wh_blob_discard(struct wh_blob_dir *b, const char *tmp)
{
        if (tmp)
                unlinkat(b->dfd, tmp, 0);
}

/* Gives an O_TMPFILE file its name; without CAP_DAC_READ_SEARCH only /proc can. */
static int link_unnamed(int fd, int dfd, const char *name)
{
        if (linkat(fd, "", dfd, name, AT_EMPTY_PATH) == 0)
                return 0;
        if (errno != ENOENT && errno != EPERM)
                return -errno;
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        return linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

static int remember_added(struct wh_blob_dir *b, const char *hex)
{
        char **n = realloc(b->added, (b->n_added + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        b->added = n;
        n[b->n_added] = strdup(hex);
        if (!n[b->n_added])
                return -ENOMEM;
        b->n_added++;
        return 0;
}

int wh_blob_commit(struct wh_blob_dir *b, int fd, const char *tmp, const char *digest,
                   struct wh_err *err)
{
        const char *hex = wh_digest_hex(digest);
        if (fsync(fd) < 0)
                return wh_fail(err, errno, "sync blob %s", digest);
        if (fchmod(fd, 0644) < 0)
                return wh_fail(err, errno, "chmod blob %s", digest);
        struct stat st;
        if (fstatat(b->dfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
                /* Same digest, same bytes: keep the one that is there. */
                wh_blob_discard(b, tmp);
                return 0;
        }
        /* Recorded first, so a name that lands is always taken back on failure. */
        if (remember_added(b, hex) < 0)
                return wh_fail(err, ENOMEM, "blob %s", digest);
        int r = 0;
        if (tmp && renameat(b->dfd, tmp, b->dfd, hex) < 0)
                r = -errno;
        else if (!tmp)
                r = link_unnamed(fd, b->dfd, hex);
        if (r < 0) {
                free(b->added[--b->n_added]);
                /* Another writer stored the same bytes meanwhile. */
                if (r == -EEXIST)
                        return 0;
                return wh_fail(err, -r, "name blob %s", digest);
        }
        return 0;
}

int wh_blob_put(struct wh_blob_dir *b, const void *data, size_t len,
                char ret_digest[WH_DIGEST_STR], struct wh_err *err)
{
        char digest[WH_DIGEST_STR];
        wh_sha256_digest(data, len, digest);
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r = wh_blob_tmp(b, &tmp, &fd, err);
        if (r < 0)
                return r;
        r = wh_write_all(fd, data, len);
        if (r < 0) {
                wh_blob_discard(b, tmp);
                return wh_fail(err, -r, "write blob %s", digest);
        }
        r = wh_blob_commit(b, fd, tmp, digest, err);
        if (r < 0) {
                wh_blob_discard(b, tmp);
                return r;
        }
        memcpy(ret_digest, digest, WH_DIGEST_STR);
        return 0;
}

static json_object *index_new(void)
{
        _cleanup_json_ json_object *idx = json_object_new_object();
        json_object *m = json_object_new_array();
        if (!idx || !m ||
            json_object_object_add(idx, "schemaVersion", json_object_new_int(2)) ||
            wh_json_add_string(idx, "mediaType", WH_MT_OCI_INDEX) < 0 ||
            json_object_object_add(idx, "manifests", m)) {
                return NULL;
        }
        return TAKE_PTR(idx);
}

int wh_oci_index_load(int layout_fd, json_object **ret, struct wh_err *err)
{
        json_object *idx = NULL;
        if (layout_fd < 0 ||
            faccessat(layout_fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                if (layout_fd >= 0 && errno != ENOENT)
                        return wh_fail(err, errno, "index.json");
                idx = index_new();
                if (!idx)
                        return wh_fail(err, ENOMEM, "index.json");
                *ret = idx;
                return 0;
        }
        int r = wh_json_parse_file(layout_fd, "index.json", MAX_INDEX_JSON, &idx, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *owned = idx;
        json_object *m = NULL;
        int64_t schema = 0;
        r = wh_json_get_int64(idx, "index.json", "schemaVersion", 1, 2, 2, &schema, err);
        if (r >= 0)
                r = wh_json_get_array(idx, "index.json", "manifests", 0, &m, err);
        if (r < 0)
                return r;
        if (!m) {
                m = json_object_new_array();
                if (!m || json_object_object_add(idx, "manifests", m))
                        return wh_fail(err, ENOMEM, "index.json");
        }
        *ret = TAKE_PTR(owned);
        return 0;
}

static int has_ref(json_object *desc, const char *ref)
{
        json_object *a = NULL, *v = NULL;
        if (!json_object_is_type(desc, json_type_object) ||
            !json_object_object_get_ex(desc, "annotations", &a) ||
            !json_object_object_get_ex(a, WH_ANNOT_REF_NAME, &v) ||
            !json_object_is_type(v, json_type_string))
                return 0;
        return !strcmp(json_object_get_string(v), ref);
}

static json_object *descriptor(const char *ref, const char *digest, uint64_t size)
{
        _cleanup_json_ json_object *d = json_object_new_object();
        if (!d || wh_json_add_string(d, "mediaType", WH_MT_OCI_MANIFEST) < 0 ||
            wh_json_add_string(d, "digest", digest) < 0 ||
            wh_json_add_int64(d, "size", (int64_t)size) < 0)
                return NULL;
        if (ref) {
                json_object *a = json_object_new_object();
                if (!a || json_object_object_add(d, "annotations", a) ||
                    wh_json_add_string(a, WH_ANNOT_REF_NAME, ref) < 0)
                        return NULL;
        }
        return TAKE_PTR(d);
}

int wh_oci_index_set(json_object *index, const char *ref, const char *digest, uint64_t size,
                     struct wh_err *err)
{
        json_object *old = NULL;
        if (!json_object_object_get_ex(index, "manifests", &old))
                return wh_failx(err, EINVAL, "index.json: no manifests");
        _cleanup_json_ json_object *m = json_object_new_array();
        if (!m)
                return wh_fail(err, ENOMEM, "index.json");
        for (size_t i = 0; i < json_object_array_length(old); i++) {
                json_object *d = json_object_array_get_idx(old, i);
                if (ref && has_ref(d, ref))
                        continue;
                if (json_object_array_add(m, json_object_get(d)))
                        return wh_fail(err, ENOMEM, "index.json");
        }
        json_object *d = descriptor(ref, digest, size);
        if (!d || json_object_array_add(m, d)) {
                json_object_put(d);
                return wh_fail(err, ENOMEM, "index.json");
        }
        if (json_object_object_add(index, "manifests", TAKE_PTR(m)))
                return wh_fail(err, ENOMEM, "index.json");
        return 0;
}

char *wh_oci_index_text(json_object *index)
{
        return wh_json_to_string(index, 0);
}

int wh_tmpfile_beside(const char *path, struct wh_err *err)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return wh_fail(err, ENOMEM, "temporary file");
        const char *dir = dirname(copy);
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0)
                return fd;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "open directory '%s'", dir);
        _cleanup_free_ char *name = NULL;
        int r = create_tmp_at(dfd, ".whittle-tmp-", &name, &fd, err);
        if (r < 0)
                return r;
        unlinkat(dfd, name, 0);
        return fd;
}

struct fd_sink {
        int fd;
};

static int fd_sink_write(void *userdata, const void *buf, size_t len, struct wh_err *err)
{
        struct fd_sink *s = userdata;
        int r = wh_write_all(s->fd, buf, len);
        return r < 0 ? wh_fail(err, -r, "write archive") : 0;
}

static int archive_members(int fd, const struct wh_archive_member *m, size_t n,
                           int64_t mtime, struct wh_err *err)
{
        _cleanup_free_ void *buf = malloc(COPY_BUF);
        if (!buf)
                return wh_fail(err, ENOMEM, "archive");
        struct fd_sink sink = {fd};
        struct wh_tar_writer w;
        wh_tar_writer_init(&w, fd_sink_write, &sink);
        for (size_t i = 0; i < n; i++) {
                struct wh_tar_hdr h = {
                        .path = m[i].name,
                        .type = m[i].is_dir ? WH_TAR_DIR : WH_TAR_REG,
                        .mode = m[i].is_dir ? 0755 : 0644,
                        .size = m[i].is_dir ? 0 : m[i].len,
                        .mtime = mtime,
                };
                int r = wh_tar_write_header(&w, &h, err);
                if (r >= 0 && !m[i].is_dir && m[i].data)
                        r = wh_tar_write_data(&w, m[i].data, m[i].len, err);
                else if (r >= 0 && !m[i].is_dir)
                        r = wh_tar_copy_fd(&w, m[i].fd, 0, m[i].len, buf, COPY_BUF, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "'%s'", m[i].name);
        }
        return wh_tar_finish(&w, err);
}

/* Names an unnamed file path.tmp-<random> (retrying on a clash); caller owns *ret. */
static int name_unnamed(int fd, const char *path, char **ret)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                uint64_t rnd = 0;
                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                        rnd = (uint64_t)attempt * 0x9e3779b97f4a7c15ULL;
                char *name = NULL;
                if (asprintf(&name, "%s.tmp-%016llx", path, (unsigned long long)rnd) < 0)
                        return -ENOMEM;
                int r = link_unnamed(fd, AT_FDCWD, name);
                if (r == 0) {
                        *ret = name;
                        return 0;
                }
                free(name);
                if (r != -EEXIST)
                        return r;
        }
        return -EEXIST;
}

/*
 * The archive grows in an unnamed file when the filesystem allows, so a
 * killed build leaves nothing beside path; it gets a temporary name only
 * for the final rename.
 */
int wh_archive_write(const char *path, const struct wh_archive_member *m, size_t n,
                     int64_t mtime, struct wh_err *err)
{
        _cleanup_free_ char *copy = strdup(path), *tmp = NULL;
        if (!copy)
                return wh_fail(err, ENOMEM, "archive '%s'", path);
        _cleanup_close_ int fd = open(dirname(copy), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
                        return wh_fail(err, ENOMEM, "archive '%s'", path);
                fd = mkostemp(tmp, O_CLOEXEC);
                if (fd < 0)
                        return wh_fail(err, errno, "create '%s'", tmp);
        }
        int r = archive_members(fd, m, n, mtime, err);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = wh_fail(err, errno, "chmod archive '%s'", path);
        if (r >= 0 && fsync(fd) < 0)
                r = wh_fail(err, errno, "sync archive '%s'", path);
        if (r >= 0 && !tmp) {
                int q = name_unnamed(fd, path, &tmp);
                if (q < 0)
                        r = wh_fail(err, -q, "name archive '%s'", path);
        }
        if (r >= 0 && rename(tmp, path) < 0)
                r = wh_fail(err, errno, "rename '%s' to '%s'", tmp, path);
        if (r < 0 && tmp)
                unlink(tmp);
        return r;
}
