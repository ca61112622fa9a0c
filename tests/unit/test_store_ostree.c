/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the OSTree store: a small index committed through the
 * image writer and read back with libostree itself (files, modes, owners,
 * symlinks, hard links, xattrs, contents, metadata); the same input gives
 * the same commit; a second image reuses the objects it shares; a failed
 * commit leaves the ref alone; checkouts hard-link; bundle configs.
 */
#include "../../builder/compress.h"
#include "tap.h"

#ifndef WITH_OSTREE
int main(void)
{
        printf("1..0 # SKIP built without WITH_OSTREE\n");
        return 0;
}
#else

#include <errno.h>
#include <fcntl.h>
#include <ostree.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "log.h"
#include "../../builder/bundle_spec.h"
#include "../../builder/image_write.h"
#include "../../builder/store_ostree.h"

#define EPOCH 1700000000

static char tmproot[] = "/tmp/wh-store-ostree-XXXXXX";
static const unsigned char cap_value[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20};

struct fixture {
        struct wh_index *idx;
        int spool;
        uint64_t spool_len;
};

static struct wh_entry *add(struct fixture *f, const char *path, enum wh_ftype type,
                            uint32_t mode, uint32_t uid, uint32_t gid, const char *link,
                            const char *content)
{
        struct wh_err err = {0};
        struct wh_entry *e = wh_entry_new(path, type);
        e->mode = mode;
        e->uid = uid;
        e->gid = gid;
        e->mtime = 1000;
        e->spool_off = -1;
        if (link)
                e->link = strdup(link);
        if (content) {
                size_t len = strlen(content);
                if (pwrite(f->spool, content, len, (off_t)f->spool_len) != (ssize_t)len)
                        abort();
                e->size = len;
                e->spool_off = (int64_t)f->spool_len;
                f->spool_len += len;
        }
        e->keep_reason = wh_index_intern(f->idx, "test");
        if (wh_index_put(f->idx, e, &err) < 0) {
                diag("put %s: %s", path, err.msg);
                abort();
        }
        return wh_index_get(f->idx, path);
}

/* Image A: a tree with every kind of entry ostree stores. */
static void fixture_a(struct fixture *f)
{
        f->idx = wh_index_new();
        f->spool = memfd_create("spool", MFD_CLOEXEC);
        f->spool_len = 0;
        add(f, "etc", WH_F_DIR, 0755, 0, 0, NULL, NULL);
        add(f, "etc/hostname", WH_F_REG, 0644, 0, 0, NULL, "whittle\n");
        add(f, "etc/shadow", WH_F_REG, 0640, 0, 42, NULL, "root:*:19000::::::\n");
        add(f, "etc/passwd", WH_F_REG, 0644, 0, 0, NULL,
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n");
        add(f, "etc/group", WH_F_REG, 0644, 0, 0, NULL, "root:x:0:\nstaff:x:50:\n");
        add(f, "usr", WH_F_DIR, 0751, 0, 0, NULL, NULL);
        add(f, "usr/bin", WH_F_DIR, 0755, 0, 0, NULL, NULL);
        struct wh_entry *tool = add(f, "usr/bin/tool", WH_F_REG, 04755, 0, 0, NULL,
                                    "#!/bin/sh\necho tool\n");
        tool->xattrs = calloc(1, sizeof(*tool->xattrs));
        tool->xattrs[0].name = strdup("security.capability");
        tool->xattrs[0].value = malloc(sizeof(cap_value));
        memcpy(tool->xattrs[0].value, cap_value, sizeof(cap_value));
        tool->xattrs[0].len = sizeof(cap_value);
        tool->n_xattrs = 1;
        add(f, "usr/bin/tool-alias", WH_F_HARDLINK, 0, 0, 0, "usr/bin/tool", NULL);
        add(f, "usr/bin/sh", WH_F_SYMLINK, 0777, 0, 0, "/bin/busybox", NULL);
        add(f, "app", WH_F_DIR, 0700, 1000, 1001, NULL, NULL);
        add(f, "app/data", WH_F_REG, 0600, 1000, 1001, NULL, "shared between images\n");
        add(f, "app/empty", WH_F_REG, 0644, 0, 0, NULL, NULL);
        add(f, "app/fifo", WH_F_FIFO, 0644, 0, 0, NULL, NULL);
}

/* Image B: shares app/data and etc/hostname with A, adds its own file. */
static void fixture_b(struct fixture *f)
{
        f->idx = wh_index_new();
        f->spool = memfd_create("spool", MFD_CLOEXEC);
        f->spool_len = 0;
        add(f, "etc", WH_F_DIR, 0755, 0, 0, NULL, NULL);
        add(f, "etc/hostname", WH_F_REG, 0644, 0, 0, NULL, "whittle\n");
        add(f, "app", WH_F_DIR, 0700, 1000, 1001, NULL, NULL);
        add(f, "app/data", WH_F_REG, 0600, 1000, 1001, NULL, "shared between images\n");
        add(f, "app/own", WH_F_REG, 0644, 0, 0, NULL, "only in B\n");
}

static void fixture_release(struct fixture *f)
{
        wh_index_free(f->idx);
        close(f->spool);
}

static json_object *image_config(void)
{
        const char *text = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
                           "\"User\":\"app:staff\",\"Env\":[\"A=1\"],"
                           "\"Entrypoint\":[\"/usr/bin/tool\"],\"Cmd\":[\"-x\"],"
                           "\"WorkingDir\":\"app\"}}";
        json_object *o = NULL;
        if (wh_json_parse(text, strlen(text), "config", &o, NULL) < 0)
                abort();
        return o;
}

static int commit_to(struct fixture *f, const char *repo, const char *ref,
                     struct wh_write_result *res, struct wh_err *err)
{
        _cleanup_json_ json_object *cfg = image_config();
        struct wh_write_opts o = {
                .compression = WH_COMP_ZSTD,
                .level = WH_COMP_LEVEL_DEFAULT,
                .epoch = EPOCH,
                .config = cfg,
                .history_created_by = "whittle build --profile test",
                .base_digest = "sha256:0123",
                .spool_fd = f->spool,
        };
        struct wh_image_ref dest = {
                .transport = WH_T_OSTREE, .path = (char *)repo, .ref = (char *)ref};
        memset(res, 0, sizeof(*res));
        return wh_image_write(&dest, f->idx, &o, res, err);
}

static char *tpath(const char *name)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s", tmproot, name) < 0)
                abort();
        return p;
}

static OstreeRepo *open_repo(const char *path)
{
        g_autoptr(GError) gerr = NULL;
        OstreeRepo *r = ostree_repo_open_at(AT_FDCWD, path, NULL, &gerr);
        if (!r)
                diag("open %s: %s", path, gerr->message);
        return r;
}

static GFileInfo *query(GFile *root, const char *path)
{
        g_autoptr(GFile) f = g_file_resolve_relative_path(root, path);
        return g_file_query_info(f, "standard::*,unix::*",
                                 G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
}

static char *contents(GFile *root, const char *path)
{
        g_autoptr(GFile) f = g_file_resolve_relative_path(root, path);
        char *data = NULL;
        gsize len = 0;
        if (!g_file_load_contents(f, NULL, &data, &len, NULL, NULL))
                return NULL;
        return data;
}

static void check_file(GFile *root, const char *path, uint32_t mode, uint32_t uid,
                       uint32_t gid, const char *content)
{
        g_autoptr(GFileInfo) fi = query(root, path);
        if (!ok(fi != NULL, "%s is in the commit", path))
                return;
        is_int(g_file_info_get_attribute_uint32(fi, "unix::mode"), mode, "%s: mode", path);
        is_int(g_file_info_get_attribute_uint32(fi, "unix::uid"), uid, "%s: uid", path);
        is_int(g_file_info_get_attribute_uint32(fi, "unix::gid"), gid, "%s: gid", path);
        if (content) {
                g_autofree char *got = contents(root, path);
                is_str(got, content, "%s: content", path);
        }
}

/* Caller owns. */
static char *file_checksum(GFile *root, const char *path)
{
        g_autoptr(GFile) f = g_file_resolve_relative_path(root, path);
        if (!ostree_repo_file_ensure_resolved(OSTREE_REPO_FILE(f), NULL))
                return NULL;
        return g_strdup(ostree_repo_file_get_checksum(OSTREE_REPO_FILE(f)));
}

static void check_tree(const char *repo_path, const char *ref)
{
        g_autoptr(OstreeRepo) repo = open_repo(repo_path);
        g_autoptr(GFile) root = NULL;
        g_autofree char *commit = NULL;
        if (!ok(repo && ostree_repo_read_commit(repo, ref, &root, &commit, NULL, NULL),
                "the commit reads back"))
                return;
        check_file(root, "etc/hostname", S_IFREG | 0644, 0, 0, "whittle\n");
        check_file(root, "etc/shadow", S_IFREG | 0640, 0, 42, "root:*:19000::::::\n");
        check_file(root, "usr/bin/tool", S_IFREG | 04755, 0, 0, "#!/bin/sh\necho tool\n");
        check_file(root, "app", S_IFDIR | 0700, 1000, 1001, NULL);
        check_file(root, "usr", S_IFDIR | 0751, 0, 0, NULL);
        check_file(root, "app/data", S_IFREG | 0600, 1000, 1001, "shared between images\n");
        check_file(root, "app/empty", S_IFREG | 0644, 0, 0, "");
        g_autoptr(GFileInfo) ln = query(root, "usr/bin/sh");
        ok(ln && g_file_info_get_file_type(ln) == G_FILE_TYPE_SYMBOLIC_LINK,
           "usr/bin/sh is a symlink");
        is_str(ln ? g_file_info_get_symlink_target(ln) : NULL, "/bin/busybox",
               "its target is kept as written");
        g_autoptr(GFileInfo) fifo = query(root, "app/fifo");
        ok(fifo == NULL, "the fifo is left out");
        g_autofree char *c_alias = file_checksum(root, "usr/bin/tool-alias");
        g_autofree char *c_tool = file_checksum(root, "usr/bin/tool");
        ok(c_tool != NULL, "the file has a checksum");
        is_str(c_alias, c_tool, "a hard link is the same object");
        g_autoptr(GFile) tool = g_file_resolve_relative_path(root, "usr/bin/tool");
        g_autoptr(GVariant) x = NULL;
        ostree_repo_file_get_xattrs(OSTREE_REPO_FILE(tool), &x, NULL, NULL);
        g_autoptr(GVariant) want = NULL;
        int found = 0;
        for (gsize i = 0; x && i < g_variant_n_children(x); i++) {
                const char *name = NULL;
                g_autoptr(GVariant) val = NULL;
                g_variant_get_child(x, i, "(^&ay@ay)", &name, &val);
                gsize n = 0;
                const void *d = g_variant_get_fixed_array(val, &n, 1);
                if (!strcmp(name, "security.capability") && n == sizeof(cap_value) &&
                    !memcmp(d, cap_value, n))
                        found = 1;
        }
        ok(found, "security.capability is kept");

        g_autoptr(GVariant) cv = NULL;
        ostree_repo_load_commit(repo, commit, &cv, NULL, NULL);
        is_int(cv ? ostree_commit_get_timestamp(cv) : 0, EPOCH,
               "the commit time is the epoch");
        g_autoptr(GVariant) meta = cv ? g_variant_get_child_value(cv, 0) : NULL;
        const char *cfg = NULL, *info = NULL;
        ok(meta && g_variant_lookup(meta, WH_OSTREE_META_CONFIG, "&s", &cfg) &&
                   strstr(cfg, "\"Entrypoint\":[\"/usr/bin/tool\"]"),
           "the image config is in the commit metadata");
        ok(meta && g_variant_lookup(meta, WH_OSTREE_META_INFO, "&s", &info) &&
                   strstr(info,
                          "\"org.opencontainers.image.base.digest\":\"sha256:0123\"") &&
                   strstr(info, "\"created\":\"2023-11-14T22:13:20Z\""),
           "and the base and created time");
        g_autofree const char **bind = NULL;
        ok(meta && g_variant_lookup(meta, "ostree.ref-binding", "^a&s", &bind) && bind[0] &&
                   !strcmp(bind[0], ref) && !bind[1],
           "the commit is bound to its ref");
}

static void test_commit_and_read_back(void)
{
        struct fixture f;
        fixture_a(&f);
        _cleanup_free_ char *repo = tpath("repo");
        struct wh_write_result res;
        struct wh_err err = {0};
        int r = commit_to(&f, repo, "app/a", &res, &err);
        if (!ok(r >= 0, "commit into a new repository"))
                diag("%s", err.msg);
        is_int(strlen(res.commit), 64, "the result names the commit");
        ok(res.store.present, "with store figures");
        /* 7 regular files (tool and its alias are one object), 1 symlink. */
        is_int(res.store.objects_new, 8, "every object is new");
        is_int(res.store.objects_reused, 0, "nothing reused");
        is_int(res.store.bytes_new, f.spool_len, "new bytes are the file contents");
        is_int(res.store.bytes_reused, 0, "no bytes reused");
        ok(res.manifest_digest[0] == '\0', "no OCI manifest digest for a store");
        check_tree(repo, "app/a");

        g_autoptr(OstreeRepo) orepo = open_repo(repo);
        ok(orepo && ostree_repo_get_mode(orepo) == OSTREE_REPO_MODE_BARE,
           "a new repository is bare (as root)");

        struct wh_write_result again;
        r = commit_to(&f, repo, "app/a", &again, &err);
        is_str(again.commit, res.commit, "the same input gives the same commit");
        is_int(again.store.objects_new, 0, "and writes no new object");
        is_int(again.store.bytes_reused, f.spool_len, "all bytes reused");
        _cleanup_free_ char *repo2 = tpath("repo2");
        r = commit_to(&f, repo2, "app/a", &again, &err);
        is_str(again.commit, res.commit, "in another repository too");
        fixture_release(&f);
}

static void test_dedup(void)
{
        struct fixture a, b;
        fixture_a(&a);
        fixture_b(&b);
        _cleanup_free_ char *repo = tpath("dedup");
        struct wh_write_result ra, rb;
        struct wh_err err = {0};
        ok(commit_to(&a, repo, "a", &ra, &err) >= 0, "image A committed");
        int r = commit_to(&b, repo, "b", &rb, &err);
        if (!ok(r >= 0, "image B committed into the same repository"))
                diag("%s", err.msg);
        is_int(rb.store.objects_reused, 2, "B reuses the two files it shares with A");
        is_int(rb.store.objects_new, 1, "and writes its own");
        is_int(rb.store.bytes_reused,
               strlen("whittle\n") + strlen("shared between images\n"),
               "bytes deduplicated are the shared files' sizes");
        is_int(rb.store.bytes_new, strlen("only in B\n"), "bytes new are B's own");
        g_autoptr(OstreeRepo) orepo = open_repo(repo);
        g_autofree char *ca = NULL, *cb = NULL;
        ostree_repo_resolve_rev(orepo, "a", FALSE, &ca, NULL);
        ok(ca && !strcmp(ca, ra.commit), "ref a still names A's commit");
        ostree_repo_resolve_rev(orepo, "b", FALSE, &cb, NULL);
        ok(cb && !strcmp(cb, rb.commit), "ref b names B's commit");
        fixture_release(&a);
        fixture_release(&b);
}

static void test_failure_keeps_ref(void)
{
        struct fixture f;
        fixture_a(&f);
        _cleanup_free_ char *repo = tpath("atomic");
        struct wh_write_result res, bad;
        struct wh_err err = {0};
        ok(commit_to(&f, repo, "x", &res, &err) >= 0, "a first commit");
        /* Content that is not in the spool: the writer fails midway. */
        struct wh_entry *e = wh_index_get(f.idx, "app/data");
        e->spool_off = (int64_t)f.spool_len + 4096;
        e->mtime = 1; /* a different image if it got through */
        is_int(commit_to(&f, repo, "x", &bad, &err), -EIO,
               "a broken spool fails the commit");
        ok(strstr(err.msg, "app/data") != NULL, "the error names the entry: %s", err.msg);
        g_autoptr(OstreeRepo) orepo = open_repo(repo);
        g_autofree char *c = NULL;
        ostree_repo_resolve_rev(orepo, "x", FALSE, &c, NULL);
        is_str(c, res.commit, "the ref still names the first commit");
        fixture_release(&f);
}

static void test_repo_checks(void)
{
        struct fixture f;
        fixture_b(&f);
        struct wh_write_result res;
        struct wh_err err = {0};
        _cleanup_free_ char *archive = tpath("archive");
        g_autoptr(OstreeRepo) ar = ostree_repo_create_at(
                AT_FDCWD, archive, OSTREE_REPO_MODE_ARCHIVE, NULL, NULL, NULL);
        ok(ar != NULL, "an archive repository exists");
        is_int(commit_to(&f, archive, "b", &res, &err), -ENOTSUP,
               "an archive repo is refused");
        ok(strstr(err.msg, "bare") != NULL, "the error says which modes work");

        _cleanup_free_ char *bu = tpath("bare-user");
        g_autoptr(OstreeRepo) bur = ostree_repo_create_at(
                AT_FDCWD, bu, OSTREE_REPO_MODE_BARE_USER, NULL, NULL, NULL);
        int r = commit_to(&f, bu, "b", &res, &err);
        if (!ok(r >= 0, "a bare-user repository is accepted"))
                diag("%s", err.msg);

        _cleanup_free_ char *other = tpath("other"), *marker = tpath("other/keep");
        mkdir(other, 0755);
        close(open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        is_int(commit_to(&f, other, "b", &res, &err), -EEXIST,
               "a non-empty directory that is no repository is refused");
        ok(access(marker, F_OK) == 0, "and left as it was");
        _cleanup_free_ char *repo = tpath("badref");
        ok(commit_to(&f, repo, "bad ref", &res, &err) == -EINVAL,
           "an invalid ref is refused");
        ok(access(repo, F_OK) < 0, "before a repository is created");
        fixture_release(&f);
}

static void test_checkout(void)
{
        struct fixture f;
        fixture_a(&f);
        _cleanup_free_ char *repo = tpath("co-repo"), *bundle = tpath("bundle");
        struct wh_write_result res;
        struct wh_err err = {0};
        ok(commit_to(&f, repo, "co", &res, &err) >= 0, "committed for checkout");
        mkdir(bundle, 0755);
        _cleanup_close_ int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct wh_ostree_image img = {0};
        int r = wh_ostree_checkout(repo, "co", bfd, "rootfs", WH_CHECKOUT_HARDLINK, &img,
                                   &err);
        if (!ok(r >= 0, "hard-link checkout"))
                diag("%s", err.msg);
        is_str(img.commit, res.commit, "of the ref's commit");
        ok(img.config && strstr(img.config, "/usr/bin/tool"), "with the image config");
        struct stat st;
        ok(fstatat(bfd, "rootfs/app/data", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   st.st_nlink >= 2 && st.st_uid == 1000 && (st.st_mode & 07777) == 0600,
           "files are links to the store's objects, with owner and mode");
        char target[64] = "";
        ssize_t n = readlinkat(bfd, "rootfs/usr/bin/sh", target, sizeof(target) - 1);
        is_str(n > 0 ? target : "", "/bin/busybox", "symlinks are checked out as written");
        _cleanup_free_ char *tool = tpath("bundle/rootfs/usr/bin/tool");
        ok(getxattr(tool, "security.capability", NULL, 0) == sizeof(cap_value),
           "the capability xattr is on the checked-out file");
        wh_ostree_image_release(&img);
        is_int(wh_ostree_checkout(repo, "co", bfd, "rootfs", WH_CHECKOUT_AUTO, &img, &err),
               -EEXIST, "an existing destination is refused");
        is_int(wh_ostree_checkout(repo, "nope", bfd, "other", WH_CHECKOUT_AUTO, &img, &err),
               -ENOENT, "a missing ref fails");
        ok(strstr(err.msg, "nope") != NULL, "and says which: %s", err.msg);
        ok(faccessat(bfd, "other", F_OK, AT_SYMLINK_NOFOLLOW) < 0,
           "leaving nothing behind");
        r = wh_ostree_checkout(repo, "co", bfd, "copy", WH_CHECKOUT_COPY, &img, &err);
        ok(r >= 0 && fstatat(bfd, "copy/app/data", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   st.st_nlink == 1,
           "a copy checkout shares no inode with the store");
        wh_ostree_image_release(&img);
        fixture_release(&f);
}

static void test_bundle_config(void)
{
        _cleanup_free_ char *root = tpath("bundle/rootfs");
        _cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct wh_err err = {0};
        uint32_t uid = 7, gid = 7;
        ok(wh_bundle_user("app", rfd, &uid, &gid, &err) >= 0 && uid == 1000 && gid == 1001,
           "a user name takes its passwd uid and gid");
        ok(wh_bundle_user("app:staff", rfd, &uid, &gid, &err) >= 0 && uid == 1000 &&
                   gid == 50,
           "a group name is looked up in etc/group");
        ok(wh_bundle_user("1000", rfd, &uid, &gid, &err) >= 0 && uid == 1000 && gid == 1001,
           "a numeric uid takes its passwd group");
        ok(wh_bundle_user("4242:7", rfd, &uid, &gid, &err) >= 0 && uid == 4242 && gid == 7,
           "numeric uid:gid need no passwd entry");
        ok(wh_bundle_user("", rfd, &uid, &gid, &err) >= 0 && uid == 0 && gid == 0,
           "no user is root");
        is_int(wh_bundle_user("ghost", rfd, &uid, &gid, &err), -ENOENT,
               "an unknown user fails");
        ok(strstr(err.msg, "ghost") != NULL, "naming it");

        _cleanup_json_ json_object *cfg = image_config();
        struct wh_bundle_opts bo = {0};
        _cleanup_free_ char *text = NULL;
        int r = wh_bundle_config(cfg, rfd, &bo, &text, &err);
        if (!ok(r >= 0, "config.json from the image config"))
                diag("%s", err.msg);
        _cleanup_json_ json_object *spec = NULL;
        ok(text && wh_json_parse(text, strlen(text), "spec", &spec, &err) >= 0, "is JSON");
        json_object *p = NULL, *v = NULL;
        json_object_object_get_ex(spec, "process", &p);
        json_object_object_get_ex(p, "args", &v);
        is_str(v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : NULL,
               "[\"\\/usr\\/bin\\/tool\",\"-x\"]", "args are Entrypoint then Cmd");
        json_object_object_get_ex(p, "env", &v);
        ok(v && json_object_array_length(v) == 2 &&
                   !strncmp(json_object_get_string(json_object_array_get_idx(v, 1)),
                            "PATH=", 5),
           "env keeps the image's and adds PATH");
        const char *cwd = NULL;
        wh_json_get_string(p, "process", "cwd", 1, &cwd, &err);
        is_str(cwd, "/app", "a relative WorkingDir is made absolute");
        json_object_object_get_ex(p, "user", &v);
        json_object *u = NULL;
        ok(v && json_object_object_get_ex(v, "uid", &u) && json_object_get_int(u) == 1000,
           "process.user from User");
        ok(strstr(text, "\"terminal\": false") != NULL, "no terminal");
        ok(strstr(text, "\"readonly\": false") != NULL, "a writable root by default");
        static const char *const want[] = {"\"/proc\"",       "\"/dev\"",
                                           "\"/dev/pts\"",    "\"/dev/shm\"",
                                           "\"/dev/mqueue\"", "\"/sys\""};
        int all = 1;
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                all &= strstr(text, want[i]) != NULL;
        ok(all, "the default mounts are there");
        ok(strstr(text, "\"network\"") && strstr(text, "\"pid\"") &&
                   strstr(text, "\"uts\""),
           "and the default namespaces");

        _cleanup_json_ json_object *empty = json_object_new_object();
        _cleanup_free_ char *none = NULL;
        is_int(wh_bundle_config(empty, rfd, &bo, &none, &err), -EINVAL,
               "an image without a process is refused");
}

int main(void)
{
        if (!mkdtemp(tmproot)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        if (geteuid() != 0) {
                printf("1..0 # SKIP bare repositories and owners need root\n");
                rmdir(tmproot);
                return 0;
        }
        wh_log_init("whittle", WH_LOG_QUIET); /* the fifo's warning is expected */
        test_commit_and_read_back();
        test_dedup();
        test_failure_keeps_ref();
        test_repo_checks();
        test_checkout();
        test_bundle_config();
        wh_rm_rf_at(AT_FDCWD, tmproot);
        return done_testing();
}

#endif /* WITH_OSTREE */
