/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ostree:REPO:REF. The plan goes straight into an OstreeMutableTree: each
 * file's bytes are mapped from the spool and written as a content object,
 * each directory's owner/mode/xattrs as a dirmeta object, and the tree,
 * the commit and the ref are published by one transaction. Nothing is
 * written through a path in the image tree, so its symlinks never matter.
 */
#include "store_ostree.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"

#ifndef WITH_OSTREE

#define NOT_BUILT "ostree: not supported in this build (build with WITH_OSTREE=1)"

int wh_ostree_available(void)
{
        return 0;
}

int wh_ostree_write(const char *repo_path, const char *ref, const struct wh_plan *plan,
                    const struct wh_write_opts *opts, struct wh_write_result *ret,
                    struct wh_err *err)
{
        (void)repo_path, (void)ref, (void)plan, (void)opts, (void)ret;
        return wh_failx(err, ENOTSUP, NOT_BUILT);
}

void wh_ostree_image_release(struct wh_ostree_image *img)
{
        free(img->config);
        free(img->info);
        img->config = img->info = NULL;
}

int wh_ostree_read(const char *repo_path, const char *ref, struct wh_ostree_image *ret,
                   struct wh_err *err)
{
        (void)repo_path, (void)ref, (void)ret;
        return wh_failx(err, ENOTSUP, NOT_BUILT);
}

int wh_ostree_checkout(const char *repo_path, const char *ref, int dirfd, const char *name,
                       enum wh_checkout_mode mode, struct wh_ostree_image *ret,
                       struct wh_err *err)
{
        (void)repo_path, (void)ref, (void)dirfd, (void)name, (void)mode, (void)ret;
        return wh_failx(err, ENOTSUP, NOT_BUILT);
}

#else /* WITH_OSTREE */

#include <fcntl.h>
#include <ostree.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_util.h"
#include "image_config.h"
#include "json_util.h"
#include "log.h"

int wh_ostree_available(void)
{
        return 1;
}

void wh_ostree_image_release(struct wh_ostree_image *img)
{
        free(img->config);
        free(img->info);
        img->config = img->info = NULL;
}

/* GIO keeps errno only as a GIOErrorEnum; the common ones map back. */
static int gerror_errno(const GError *e)
{
        if (!e || e->domain != G_IO_ERROR)
                return EIO;
        switch (e->code) {
        case G_IO_ERROR_NOT_FOUND:
                return ENOENT;
        case G_IO_ERROR_EXISTS:
                return EEXIST;
        case G_IO_ERROR_PERMISSION_DENIED:
                return EACCES;
        case G_IO_ERROR_NO_SPACE:
                return ENOSPC;
        case G_IO_ERROR_NOT_SUPPORTED:
                return ENOTSUP;
        case G_IO_ERROR_INVALID_ARGUMENT:
                return EINVAL;
        case G_IO_ERROR_TOO_MANY_LINKS:
                return EMLINK;
        default:
                return EIO;
        }
}

/* Records "<what>: <libostree's message>"; returns -errno. */
__attribute__((format(printf, 3, 4))) static int gfail(struct wh_err *err, const GError *e,
                                                       const char *fmt, ...)
{
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return wh_failx(err, gerror_errno(e), "%s: %s", what, e ? e->message : "failed");
}

/*
 * Opens (or, with create, creates) the repository. Hard-link checkouts
 * need bare objects: bare as root, bare-user otherwise; archive and
 * bare-user-only repositories lose owners or links and are refused.
 */
static int repo_open(const char *path, int create, OstreeRepo **ret, struct wh_err *err)
{
        g_autoptr(GError) gerr = NULL;
        int state = wh_dest_dir_state(path, "config", "an ostree repository", err);
        if (state < 0)
                return state;
        if (state == 1 && !create)
                return wh_failx(err, ENOENT, "'%s': no such ostree repository", path);
        g_autoptr(OstreeRepo) repo = NULL;
        if (state == 1) {
                OstreeRepoMode m =
                        geteuid() == 0 ? OSTREE_REPO_MODE_BARE : OSTREE_REPO_MODE_BARE_USER;
                repo = ostree_repo_create_at(AT_FDCWD, path, m, NULL, NULL, &gerr);
        } else {
                repo = ostree_repo_open_at(AT_FDCWD, path, NULL, &gerr);
        }
        if (!repo)
                return gfail(err, gerr, "%s '%s'", state == 1 ? "create" : "open", path);
        OstreeRepoMode mode = ostree_repo_get_mode(repo);
        if (mode != OSTREE_REPO_MODE_BARE && mode != OSTREE_REPO_MODE_BARE_USER)
                return wh_failx(
                        err, ENOTSUP,
                        "'%s': repository mode must be bare or bare-user "
                        "(hard-link checkouts need owners and modes on the objects)",
                        path);
        *ret = g_steal_pointer(&repo);
        return 0;
}

/* The xattrs of an entry as ostree's a(ayay); never NULL. */
static GVariant *xattrs_variant(const struct wh_entry *m)
{
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(ayay)"));
        for (size_t i = 0; m && i < m->n_xattrs; i++) {
                const struct wh_xattr *x = &m->xattrs[i];
                g_variant_builder_add(&b, "(@ay@ay)", g_variant_new_bytestring(x->name),
                                      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE,
                                                                x->value, x->len, 1));
        }
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

struct committer {
        OstreeRepo *repo;
        int spool_fd;
        uint64_t spool_size; /* a range past it would fault when mapped */
        OstreeMutableTree *root;
        GHashTable *dirs;     /* path -> OstreeMutableTree (a reference) */
        GHashTable *files;    /* path -> content checksum, for hard links */
        GHashTable *dirmetas; /* "uid:gid:mode" -> dirmeta checksum (no xattrs) */
        GHashTable *written;  /* content checksums this commit wrote */
        struct wh_store_stats stats;
        size_t fifos;
};

static void committer_release(struct committer *c)
{
        g_clear_pointer(&c->dirs, g_hash_table_unref);
        g_clear_pointer(&c->files, g_hash_table_unref);
        g_clear_pointer(&c->dirmetas, g_hash_table_unref);
        g_clear_pointer(&c->written, g_hash_table_unref);
        g_clear_object(&c->root);
}

static int write_dirmeta(struct committer *c, uint32_t uid, uint32_t gid, uint32_t mode,
                         const struct wh_entry *m, char **ret, struct wh_err *err)
{
        int cacheable = !m || m->n_xattrs == 0;
        char key[64];
        snprintf(key, sizeof(key), "%u:%u:%o", uid, gid, mode & 07777);
        const char *hit = cacheable ? g_hash_table_lookup(c->dirmetas, key) : NULL;
        if (hit) {
                *ret = g_strdup(hit);
                return 0;
        }
        g_autoptr(GFileInfo) fi = g_file_info_new();
        g_file_info_set_file_type(fi, G_FILE_TYPE_DIRECTORY);
        g_file_info_set_attribute_uint32(fi, "unix::uid", uid);
        g_file_info_set_attribute_uint32(fi, "unix::gid", gid);
        g_file_info_set_attribute_uint32(fi, "unix::mode", S_IFDIR | (mode & 07777));
        g_autoptr(GVariant) x = xattrs_variant(m);
        g_autoptr(GVariant) dm =
                g_variant_ref_sink(ostree_create_directory_metadata(fi, x));
        g_autofree guchar *csum = NULL;
        g_autoptr(GError) gerr = NULL;
        if (!ostree_repo_write_metadata(c->repo, OSTREE_OBJECT_TYPE_DIR_META, NULL, dm,
                                        &csum, NULL, &gerr))
                return gfail(err, gerr, "directory metadata");
        *ret = ostree_checksum_from_bytes(csum);
        if (cacheable)
                g_hash_table_insert(c->dirmetas, g_strdup(key), g_strdup(*ret));
        return 0;
}

static void set_owner_mode(GFileInfo *fi, uint32_t uid, uint32_t gid, uint32_t mode)
{
        g_file_info_set_attribute_uint32(fi, "unix::uid", uid);
        g_file_info_set_attribute_uint32(fi, "unix::gid", gid);
        g_file_info_set_attribute_uint32(fi, "unix::mode", mode);
}

/*
 * Stores a file or symlink object; *ret_csum (caller owns) is its checksum.
 * The checksum is computed first: an object the repository already has is
 * counted and not written again, which is what makes a second image of the
 * same base cheap. ostree verifies the checksum again as it writes.
 */
static int put_object(struct committer *c, GFileInfo *fi, const struct wh_entry *m,
                      const guint8 *buf, size_t len, char **ret_csum, struct wh_err *err)
{
        int is_reg = g_file_info_get_file_type(fi) == G_FILE_TYPE_REGULAR;
        g_autoptr(GVariant) x = xattrs_variant(m);
        g_autoptr(GInputStream) in =
                is_reg ? g_memory_input_stream_new_from_data(buf, (gssize)len, NULL) : NULL;
        g_autoptr(GError) gerr = NULL;
        g_autofree guchar *raw = NULL;
        if (!ostree_checksum_file_from_input(fi, x, in, OSTREE_OBJECT_TYPE_FILE, &raw, NULL,
                                             &gerr))
                return gfail(err, gerr, "checksum");
        g_autofree char *csum = ostree_checksum_from_bytes(raw);
        gboolean have = FALSE;
        if (!ostree_repo_has_object(c->repo, OSTREE_OBJECT_TYPE_FILE, csum, &have, NULL,
                                    &gerr))
                return gfail(err, gerr, "look up object %s", csum);
        if (have || g_hash_table_contains(c->written, csum)) {
                c->stats.objects_reused++;
                c->stats.bytes_reused += len;
                *ret_csum = g_steal_pointer(&csum);
                return 0;
        }
        const char *target = is_reg ? NULL : g_file_info_get_symlink_target(fi);
        g_autofree char *got =
                is_reg ? ostree_repo_write_regfile_inline(
                                 c->repo, csum,
                                 g_file_info_get_attribute_uint32(fi, "unix::uid"),
                                 g_file_info_get_attribute_uint32(fi, "unix::gid"),
                                 g_file_info_get_attribute_uint32(fi, "unix::mode"), x, buf,
                                 len, NULL, &gerr)
                       : ostree_repo_write_symlink(
                                 c->repo, csum,
                                 g_file_info_get_attribute_uint32(fi, "unix::uid"),
                                 g_file_info_get_attribute_uint32(fi, "unix::gid"), x,
                                 target, NULL, &gerr);
        if (!got)
                return gfail(err, gerr, "write %s", is_reg ? "content" : "symlink");
        c->stats.objects_new++;
        c->stats.bytes_new += len;
        g_hash_table_add(c->written, g_strdup(csum));
        *ret_csum = g_steal_pointer(&csum);
        return 0;
}

/* Maps size bytes of the spool at off; *ret_buf points at the first. */
static int map_spool(int fd, int64_t off, uint64_t size, void **ret_map, size_t *ret_len,
                     const guint8 **ret_buf)
{
        static const guint8 empty[1];
        *ret_map = NULL;
        *ret_len = 0;
        *ret_buf = empty;
        if (size == 0)
                return 0;
        if (off < 0)
                return -EINVAL;
        long pg = sysconf(_SC_PAGESIZE);
        int64_t aligned = off - off % (pg > 0 ? pg : 4096);
        size_t delta = (size_t)(off - aligned), len;
        if (size > SIZE_MAX || __builtin_add_overflow((size_t)size, delta, &len))
                return -EFBIG;
        void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)aligned);
        if (p == MAP_FAILED)
                return -errno;
        *ret_map = p;
        *ret_len = len;
        *ret_buf = (const guint8 *)p + delta;
        return 0;
}

static int add_file(struct committer *c, OstreeMutableTree *parent, const char *base,
                    const struct wh_item *it, struct wh_err *err)
{
        const struct wh_entry *m = it->meta;
        void *map;
        size_t maplen;
        const guint8 *buf;
        uint64_t end;
        if (it->size && (it->spool_off < 0 ||
                         __builtin_add_overflow((uint64_t)it->spool_off, it->size, &end) ||
                         end > c->spool_size))
                return wh_failx(err, EIO, "content is not in the spool");
        int r = map_spool(c->spool_fd, it->spool_off, it->size, &map, &maplen, &buf);
        if (r < 0)
                return wh_fail(err, -r, "read content from the spool");
        g_autoptr(GFileInfo) fi = g_file_info_new();
        g_file_info_set_file_type(fi, G_FILE_TYPE_REGULAR);
        g_file_info_set_size(fi, (goffset)it->size);
        set_owner_mode(fi, m->uid, m->gid, S_IFREG | (m->mode & 07777));
        char *csum = NULL;
        r = put_object(c, fi, m, buf, (size_t)it->size, &csum, err);
        if (map)
                munmap(map, maplen);
        if (r < 0)
                return r;
        g_autoptr(GError) gerr = NULL;
        g_hash_table_insert(c->files, g_strdup(it->e->path), csum);
        if (!ostree_mutable_tree_replace_file(parent, base, csum, &gerr))
                return gfail(err, gerr, "add to tree");
        return 0;
}

static int add_link(struct committer *c, OstreeMutableTree *parent, const char *base,
                    const struct wh_item *it, struct wh_err *err)
{
        g_autoptr(GError) gerr = NULL;
        g_autofree char *owned = NULL;
        const char *csum;
        if (it->kind == WH_ITEM_HARDLINK) {
                /* The same object under another name is what a hard link is to ostree. */
                csum = g_hash_table_lookup(c->files, it->link);
                if (!csum)
                        return wh_failx(err, ENOENT,
                                        "hard link to '/%s', not written first", it->link);
        } else {
                const struct wh_entry *m = it->meta;
                g_autoptr(GFileInfo) fi = g_file_info_new();
                g_file_info_set_file_type(fi, G_FILE_TYPE_SYMBOLIC_LINK);
                g_file_info_set_symlink_target(fi, it->link);
                set_owner_mode(fi, m->uid, m->gid, S_IFLNK | 0777);
                int r = put_object(c, fi, m, NULL, 0, &owned, err);
                if (r < 0)
                        return r;
                csum = owned;
        }
        if (!ostree_mutable_tree_replace_file(parent, base, csum, &gerr))
                return gfail(err, gerr, "add to tree");
        return 0;
}

static int add_dir(struct committer *c, OstreeMutableTree *parent, const char *base,
                   const struct wh_item *it, struct wh_err *err)
{
        const struct wh_entry *m = it->meta;
        g_autofree char *meta = NULL;
        int r = write_dirmeta(c, m->uid, m->gid, m->mode, m, &meta, err);
        if (r < 0)
                return r;
        g_autoptr(GError) gerr = NULL;
        g_autoptr(OstreeMutableTree) sub = NULL;
        if (!ostree_mutable_tree_ensure_dir(parent, base, &sub, &gerr))
                return gfail(err, gerr, "add to tree");
        ostree_mutable_tree_set_metadata_checksum(sub, meta);
        g_hash_table_insert(c->dirs, g_strdup(it->e->path), g_steal_pointer(&sub));
        return 0;
}

static int add_item(struct committer *c, const struct wh_item *it, struct wh_err *err)
{
        const char *path = it->e->path;
        const char *slash = strrchr(path, '/');
        g_autofree char *dir = g_strndup(path, slash ? (gsize)(slash - path) : 0);
        const char *base = slash ? slash + 1 : path;
        if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
                return wh_failx(err, EINVAL, "bad name");
        OstreeMutableTree *parent = *dir ? g_hash_table_lookup(c->dirs, dir) : c->root;
        if (!parent)
                return wh_failx(err, ENOENT, "parent directory is not in the plan");
        switch (it->kind) {
        case WH_ITEM_DIR:
                return add_dir(c, parent, base, it, err);
        case WH_ITEM_FILE:
                return add_file(c, parent, base, it, err);
        case WH_ITEM_HARDLINK:
        case WH_ITEM_SYMLINK:
                return add_link(c, parent, base, it, err);
        case WH_ITEM_FIFO:
                c->fifos++;
                return 0;
        }
        return wh_failx(err, EINVAL, "unknown item kind");
}

static int build_mtree(struct committer *c, const struct wh_plan *plan, struct wh_err *err)
{
        g_autofree char *root_meta = NULL;
        int r = write_dirmeta(c, 0, 0, 0755, NULL, &root_meta, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "root directory");
        ostree_mutable_tree_set_metadata_checksum(c->root, root_meta);
        for (size_t i = 0; i < plan->n; i++) {
                r = add_item(c, &plan->items[i], err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "'/%s'", plan->items[i].e->path);
        }
        if (c->fifos)
                wh_warn("ostree: left out %zu fifo%s: ostree stores none", c->fifos,
                        c->fifos == 1 ? "" : "s");
        return 0;
}

/* created, base, and what the tree holds: the manifest's part of an image. */
static char *image_info(const struct wh_plan *plan, const struct wh_write_opts *opts)
{
        uint64_t files = 0, bytes = 0;
        for (size_t i = 0; i < plan->n; i++) {
                if (plan->items[i].kind == WH_ITEM_DIR)
                        continue;
                files++;
                if (plan->items[i].kind == WH_ITEM_FILE)
                        bytes += plan->items[i].size;
        }
        char created[32];
        wh_config_time(opts->epoch, created);
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o || wh_json_add_string(o, "created", created) < 0 ||
            (opts->history_created_by &&
             wh_json_add_string(o, "created_by", opts->history_created_by) < 0) ||
            (opts->base_digest &&
             wh_json_add_string(o, "org.opencontainers.image.base.digest",
                                opts->base_digest) < 0) ||
            (opts->base_name && wh_json_add_string(o, "org.opencontainers.image.base.name",
                                                   opts->base_name) < 0) ||
            wh_json_add_int64(o, "files", (int64_t)files) < 0 ||
            wh_json_add_int64(o, "bytes", (int64_t)bytes) < 0)
                return NULL;
        return wh_json_to_string(o, 0);
}

static GVariant *commit_metadata(const char *ref, const char *config, const char *info)
{
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        const char *refs[] = {ref, NULL};
        g_variant_builder_add(&b, "{sv}", "ostree.ref-binding",
                              g_variant_new_strv(refs, 1));
        g_variant_builder_add(&b, "{sv}", WH_OSTREE_META_CONFIG,
                              g_variant_new_string(config));
        g_variant_builder_add(&b, "{sv}", WH_OSTREE_META_INFO, g_variant_new_string(info));
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* Inside the transaction: objects, tree, commit; *ret_commit is owned. */
static int write_commit(struct committer *c, const char *ref, const struct wh_plan *plan,
                        const struct wh_write_opts *opts, char **ret_commit,
                        struct wh_err *err)
{
        int r = build_mtree(c, plan, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *config =
                opts->config ? wh_json_to_string(opts->config, 0) : strdup("{}");
        _cleanup_free_ char *info = image_info(plan, opts);
        if (!config || !info)
                return wh_fail(err, ENOMEM, "commit metadata");
        g_autoptr(GError) gerr = NULL;
        g_autoptr(GFile) root = NULL;
        if (!ostree_repo_write_mtree(c->repo, c->root, &root, NULL, &gerr))
                return gfail(err, gerr, "write tree");
        g_autoptr(GVariant) meta = commit_metadata(ref, config, info);
        const char *subject =
                opts->history_created_by ? opts->history_created_by : "whittle";
        /* No parent: a commit is an image, and the same image is the same commit. */
        if (!ostree_repo_write_commit_with_time(
                    c->repo, NULL, subject, NULL, meta, OSTREE_REPO_FILE(root),
                    (guint64)(opts->epoch < 0 ? 0 : opts->epoch), ret_commit, NULL, &gerr))
                return gfail(err, gerr, "write commit");
        return 0;
}

int wh_ostree_write(const char *repo_path, const char *ref, const struct wh_plan *plan,
                    const struct wh_write_opts *opts, struct wh_write_result *ret,
                    struct wh_err *err)
{
        g_autoptr(GError) gerr = NULL;
        if (!ref || !ostree_validate_rev(ref, &gerr))
                return wh_failx(err, EINVAL, "ref '%s': %s", ref ? ref : "",
                                gerr ? gerr->message : "missing");
        struct stat sst;
        if (fstat(opts->spool_fd, &sst) < 0)
                return wh_fail(err, errno, "spool");
        g_autoptr(OstreeRepo) repo = NULL;
        int r = repo_open(repo_path, 1, &repo, err);
        if (r < 0)
                return r;
        if (!ostree_repo_prepare_transaction(repo, NULL, NULL, &gerr))
                return gfail(err, gerr, "start transaction");
        _cleanup_(committer_release) struct committer c = {
                .repo = repo,
                .spool_fd = opts->spool_fd,
                .spool_size = (uint64_t)sst.st_size,
                .root = ostree_mutable_tree_new(),
                .dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              g_object_unref),
                .files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                .dirmetas = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                .written = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        };
        g_autofree char *commit = NULL;
        r = write_commit(&c, ref, plan, opts, &commit, err);
        if (r >= 0) {
                ostree_repo_transaction_set_ref(repo, NULL, ref, commit);
                if (!ostree_repo_commit_transaction(repo, NULL, NULL, &gerr))
                        r = gfail(err, gerr, "commit transaction");
        }
        if (r < 0) {
                g_autoptr(GError) aerr = NULL;
                if (!ostree_repo_abort_transaction(repo, NULL, &aerr))
                        wh_warn("ostree: abort transaction: %s", aerr->message);
                return r;
        }
        memset(ret, 0, sizeof(*ret));
        snprintf(ret->commit, sizeof(ret->commit), "%s", commit);
        ret->store = c.stats;
        ret->store.present = 1;
        return 0;
}

/* A string member of the commit's metadata, or NULL. Caller owns. */
static char *meta_string(GVariant *meta, const char *key)
{
        const char *s = NULL;
        if (!g_variant_lookup(meta, key, "&s", &s))
                return NULL;
        return strdup(s);
}

static int read_image(OstreeRepo *repo, const char *ref, struct wh_ostree_image *ret,
                      struct wh_err *err)
{
        g_autoptr(GError) gerr = NULL;
        g_autofree char *commit = NULL;
        if (!ostree_repo_resolve_rev(repo, ref, FALSE, &commit, &gerr))
                return gfail(err, gerr, "ref '%s'", ref);
        g_autoptr(GVariant) cv = NULL;
        if (!ostree_repo_load_commit(repo, commit, &cv, NULL, &gerr))
                return gfail(err, gerr, "commit %s", commit);
        g_autoptr(GVariant) meta = g_variant_get_child_value(cv, 0);
        struct wh_ostree_image img = {0};
        snprintf(img.commit, sizeof(img.commit), "%s", commit);
        img.config = meta_string(meta, WH_OSTREE_META_CONFIG);
        img.info = meta_string(meta, WH_OSTREE_META_INFO);
        *ret = img;
        return 0;
}

int wh_ostree_read(const char *repo_path, const char *ref, struct wh_ostree_image *ret,
                   struct wh_err *err)
{
        g_autoptr(OstreeRepo) repo = NULL;
        int r = repo_open(repo_path, 0, &repo, err);
        return r < 0 ? r : read_image(repo, ref, ret, err);
}

int wh_ostree_checkout(const char *repo_path, const char *ref, int dirfd, const char *name,
                       enum wh_checkout_mode mode, struct wh_ostree_image *ret,
                       struct wh_err *err)
{
        g_autoptr(OstreeRepo) repo = NULL;
        int r = repo_open(repo_path, 0, &repo, err);
        if (r < 0)
                return r;
        struct wh_ostree_image img = {0};
        if ((r = read_image(repo, ref, &img, err)) < 0)
                return r;
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                r = wh_failx(err, EEXIST, "'%s' exists", name);
        else if (errno != ENOENT)
                r = wh_fail(err, errno, "'%s'", name);
        if (r < 0) {
                wh_ostree_image_release(&img);
                return r;
        }
        OstreeRepoCheckoutAtOptions o = {0};
        /* Owners and xattrs come from a bare repository only as root. */
        o.mode = geteuid() == 0 && ostree_repo_get_mode(repo) == OSTREE_REPO_MODE_BARE
                         ? OSTREE_REPO_CHECKOUT_MODE_NONE
                         : OSTREE_REPO_CHECKOUT_MODE_USER;
        o.overwrite_mode = OSTREE_REPO_CHECKOUT_OVERWRITE_NONE;
        o.no_copy_fallback = mode == WH_CHECKOUT_HARDLINK;
        o.force_copy = mode == WH_CHECKOUT_COPY;
        g_autoptr(GError) gerr = NULL;
        if (!ostree_repo_checkout_at(repo, &o, dirfd, name, img.commit, NULL, &gerr)) {
                r = gfail(err, gerr, "check out %s", img.commit);
                wh_rm_rf_at(dirfd, name);
                wh_ostree_image_release(&img);
                return r;
        }
        *ret = img;
        return 0;
}

#endif /* WITH_OSTREE */
