/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the file index: put/get, parents, whiteouts, sorting, resolution. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "../../builder/index.h"
#include "tap.h"

static int put(struct wh_index *idx, const char *path, enum wh_ftype type, uint32_t layer,
               const char *link)
{
        struct wh_err err = {0};
        struct wh_entry *e = wh_entry_new(path, type);
        e->layer = layer;
        e->mode = type == WH_F_DIR ? 0755 : 0644;
        if (link)
                e->link = strdup(link);
        int r = wh_index_put(idx, e, &err);
        if (r < 0)
                wh_entry_free(e);
        return r;
}

static int has(struct wh_index *idx, const char *path)
{
        return wh_index_get(idx, path) != NULL;
}

static void test_put_get(void)
{
        struct wh_index *idx = wh_index_new();
        is_int(put(idx, "usr/bin/sh", WH_F_REG, 0, NULL), 0, "put with missing parents");
        is_int(wh_index_count(idx), 3, "parents created implicitly");
        struct wh_entry *d = wh_index_get(idx, "usr/bin");
        ok(d && d->type == WH_F_DIR && d->mode == 0755, "implicit parent is a 0755 dir");
        ok(!has(idx, "usr/bi"), "prefix is not a hit");
        ok(!has(idx, ""), "root is not an entry");

        is_int(put(idx, "usr/bin/sh", WH_F_SYMLINK, 1, "dash"), 0,
               "replace file by symlink");
        is_str(wh_index_get(idx, "usr/bin/sh")->link, "dash", "replacement visible");
        is_int(wh_index_count(idx), 3, "replace does not add");

        is_int(put(idx, "usr/bin/sh/x", WH_F_REG, 1, NULL), -ENOTDIR,
               "child of a symlink refused");
        is_int(put(idx, "usr/bin/sh/x/y", WH_F_REG, 1, NULL), -ENOTDIR,
               "grandchild of a symlink refused");
        ok(!has(idx, "usr/bin/sh/x"), "nothing created under the symlink");
        is_int(put(idx, "/abs", WH_F_REG, 0, NULL), -EINVAL, "absolute path refused");
        is_int(put(idx, "a/", WH_F_REG, 0, NULL), -EINVAL, "trailing slash refused");

        /* Directory over directory keeps the contents; file over directory drops them. */
        put(idx, "usr", WH_F_DIR, 2, NULL);
        ok(has(idx, "usr/bin/sh"), "dir over dir keeps children");
        is_int(wh_index_get(idx, "usr")->layer, 2, "dir metadata updated");
        put(idx, "usr", WH_F_REG, 3, NULL);
        ok(!has(idx, "usr/bin") && !has(idx, "usr/bin/sh"), "file over dir drops subtree");
        is_int(wh_index_count(idx), 1, "only the file left");
        wh_index_free(idx);
}

static void test_many(void)
{
        struct wh_index *idx = wh_index_new();
        char p[64];
        int bad = 0;
        for (int i = 0; i < 100000; i++) {
                snprintf(p, sizeof(p), "d%d/f%d", i % 97, i);
                if (put(idx, p, WH_F_REG, 0, NULL) < 0)
                        bad++;
        }
        is_int(bad, 0, "100k puts");
        is_int(wh_index_count(idx), 100000 + 97, "count with parents");
        for (int i = 0; i < 100000; i += 2) {
                snprintf(p, sizeof(p), "d%d/f%d", i % 97, i);
                if (wh_index_remove(idx, p, 1) != 1)
                        bad++;
        }
        is_int(bad, 0, "50k removes");
        for (int i = 0; i < 100000; i++) {
                snprintf(p, sizeof(p), "d%d/f%d", i % 97, i);
                if (has(idx, p) != (i % 2))
                        bad++;
        }
        is_int(bad, 0, "lookups after removals (backward shift keeps probe runs)");
        size_t n;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        is_int(n, 50000 + 97, "sorted size");
        for (size_t i = 1; i < n; i++)
                if (strcmp(v[i - 1]->path, v[i]->path) >= 0)
                        bad++;
        is_int(bad, 0, "sorted bytewise");
        wh_index_free(idx);
}

static void test_sorted_order(void)
{
        struct wh_index *idx = wh_index_new();
        put(idx, "a/b", WH_F_REG, 0, NULL);
        put(idx, "a-b", WH_F_REG, 0, NULL);
        put(idx, "A", WH_F_REG, 0, NULL);
        size_t n;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        is_int(n, 4, "four entries");
        is_str(v[0]->path, "A", "uppercase first (bytewise)");
        is_str(v[1]->path, "a", "dir before");
        is_str(v[2]->path, "a-b", "'-' sorts before '/'");
        is_str(v[3]->path, "a/b", "child");
        put(idx, "z", WH_F_REG, 0, NULL);
        v = wh_index_sorted(idx, &n);
        is_int(n, 5, "sorted view refreshed after a change");
        wh_index_free(idx);
}

static void test_whiteouts(void)
{
        struct wh_index *idx = wh_index_new();
        /* layer 0 */
        put(idx, "etc", WH_F_DIR, 0, NULL);
        put(idx, "etc/a", WH_F_REG, 0, NULL);
        put(idx, "etc/b", WH_F_REG, 0, NULL);
        put(idx, "var/lib/x", WH_F_REG, 0, NULL);
        put(idx, "opt/d/one", WH_F_REG, 0, NULL);
        /* layer 1 adds and whites out */
        put(idx, "etc/c", WH_F_REG, 1, NULL);
        is_int(wh_index_remove(idx, "etc/a", 1), 1, "whiteout of a lower file");
        ok(!has(idx, "etc/a"), "lower file hidden");
        is_int(wh_index_remove(idx, "etc/c", 1), 0, "whiteout does not hide its own layer");
        ok(has(idx, "etc/c"), "same-layer file stays");
        is_int(wh_index_remove(idx, "var", 1), 3, "directory whiteout removes subtree");
        ok(!has(idx, "var") && !has(idx, "var/lib/x"), "subtree gone");
        is_int(wh_index_remove(idx, "nope", 1), 0, "whiteout of a missing path is a no-op");

        /* Opaque directory: lower contents go, the dir and newer contents stay. */
        put(idx, "opt/d/two", WH_F_REG, 1, NULL);
        is_int(wh_index_clear_dir(idx, "opt/d", 1), 1, "opaque clears lower contents");
        ok(has(idx, "opt/d") && has(idx, "opt/d/two") && !has(idx, "opt/d/one"),
           "opaque keeps dir and same-layer entries");

        /* Whiteout of a lower dir holding a newer file keeps the dir as its parent. */
        put(idx, "etc/sub/new", WH_F_REG, 2, NULL);
        wh_index_get(idx, "etc/sub")->layer = 0;
        is_int(wh_index_remove(idx, "etc", 2), 2, "lower etc/b and etc/c removed");
        ok(has(idx, "etc/sub/new") && has(idx, "etc/sub") && has(idx, "etc"),
           "newer descendant and its parents survive");
        ok(!has(idx, "etc/b") && !has(idx, "etc/c"), "lower siblings gone");
        is_int(wh_index_get(idx, "etc")->layer, 2,
               "surviving parent counts as the newer layer");

        /* Opaque root. */
        size_t before = wh_index_count(idx);
        size_t removed = wh_index_clear_dir(idx, "", 3);
        is_int(removed, before, "opaque root clears everything lower");
        is_int(wh_index_count(idx), 0, "index empty");
        wh_index_free(idx);
}

struct seen {
        char list[512];
};

static void on_link(struct wh_entry *l, void *ud)
{
        struct seen *s = ud;
        size_t n = strlen(s->list);
        snprintf(s->list + n, sizeof(s->list) - n, "%s%s", n ? "," : "", l->path);
}

static int resolve(struct wh_index *idx, const char *path, int follow, char **ret_path,
                   struct seen *s)
{
        struct wh_entry *e = NULL;
        if (s)
                s->list[0] = '\0';
        return wh_index_resolve(idx, path, follow, s ? on_link : NULL, s, &e, ret_path);
}

static void test_resolve(void)
{
        struct wh_index *idx = wh_index_new();
        put(idx, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", WH_F_REG, 0, NULL);
        put(idx, "lib64/ld-linux-x86-64.so.2", WH_F_SYMLINK, 0,
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        put(idx, "usr", WH_F_DIR, 0, NULL);
        put(idx, "usr/lib", WH_F_SYMLINK, 0, "../lib");
        put(idx, "bin", WH_F_SYMLINK, 0, "usr/bin");
        put(idx, "usr/bin/python3", WH_F_SYMLINK, 0, "python3.11");
        put(idx, "usr/bin/python3.11", WH_F_REG, 0, NULL);
        put(idx, "escape", WH_F_SYMLINK, 0, "../../../../lib");
        put(idx, "loop1", WH_F_SYMLINK, 0, "loop2");
        put(idx, "loop2", WH_F_SYMLINK, 0, "/loop1");
        put(idx, "file", WH_F_REG, 0, NULL);
        put(idx, "dangling", WH_F_SYMLINK, 0, "nowhere");

        struct seen s;
        char *p = NULL;
        is_int(resolve(idx, "/lib64/ld-linux-x86-64.so.2", 1, &p, &s), 0, "absolute link");
        is_str(p, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
               "restarts at the image root");
        is_str(s.list, "lib64/ld-linux-x86-64.so.2", "link reported");
        free(p);

        is_int(resolve(idx, "lib64/ld-linux-x86-64.so.2", 0, &p, &s), 0, "follow_last=0");
        is_str(p, "lib64/ld-linux-x86-64.so.2", "last symlink not followed");
        is_str(s.list, "", "no link reported");
        free(p);

        is_int(resolve(idx, "bin/python3", 1, &p, &s), 0, "two links");
        is_str(p, "usr/bin/python3.11", "resolved through bin and python3");
        is_str(s.list, "bin,usr/bin/python3", "both links reported in order");
        free(p);

        is_int(resolve(idx, "usr/lib/x86_64-linux-gnu", 1, &p, &s), 0, "relative ..");
        is_str(p, "lib/x86_64-linux-gnu", "usr/lib -> ../lib");
        free(p);

        is_int(resolve(idx, "escape/x86_64-linux-gnu", 1, &p, &s), 0, "escaping link");
        is_str(p, "lib/x86_64-linux-gnu", ".. clamps at the root");
        free(p);

        is_int(resolve(idx, "../../usr/bin/../bin/python3.11", 1, &p, NULL), 0,
               ".. in input");
        is_str(p, "usr/bin/python3.11", "clamped and normalised");
        free(p);

        struct wh_entry *e = (void *)1;
        is_int(wh_index_resolve(idx, "/", 1, NULL, NULL, &e, &p), 0, "root");
        ok(e == NULL, "root has no entry");
        is_str(p, "", "root path is empty");
        free(p);

        is_int(resolve(idx, "loop1", 1, NULL, &s), -ELOOP, "symlink loop");
        is_int(resolve(idx, "loop1", 0, NULL, &s), 0, "loop not followed is fine");
        is_int(resolve(idx, "file/x", 1, NULL, &s), -ENOTDIR, "through a file");
        is_int(resolve(idx, "missing/x", 1, NULL, &s), -ENOENT, "missing component");
        is_int(resolve(idx, "dangling", 1, NULL, &s), -ENOENT, "dangling link");
        is_int(resolve(idx, "dangling", 0, NULL, &s), 0, "dangling link not followed");

        /* Exactly 40 links resolve, 41 do not. */
        char name[32], target[32];
        for (int i = 0; i < 41; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                snprintf(target, sizeof(target), "c%d", i + 1);
                put(idx, name, WH_F_SYMLINK, 0, target);
        }
        put(idx, "c41", WH_F_REG, 0, NULL);
        is_int(resolve(idx, "c1", 1, NULL, NULL), 0, "40 links");
        is_int(resolve(idx, "c0", 1, NULL, NULL), -ELOOP, "41 links");
        wh_index_free(idx);
}

static void test_intern(void)
{
        struct wh_index *idx = wh_index_new();
        const char *a = wh_index_intern(idx, "profile");
        char buf[16];
        snprintf(buf, sizeof(buf), "pro%s", "file");
        const char *b = wh_index_intern(idx, buf);
        ok(a && a == b, "same string interned once");
        ok(a != buf, "pool owns a copy");
        int bad = 0;
        for (int i = 0; i < 1000; i++) {
                snprintf(buf, sizeof(buf), "r%d", i);
                const char *x = wh_index_intern(idx, buf);
                if (!x || strcmp(x, buf) || wh_index_intern(idx, buf) != x)
                        bad++;
        }
        is_int(bad, 0, "1000 distinct strings survive growth");
        is_str(wh_index_intern(idx, "profile"), a, "old pointer still valid");
        wh_index_free(idx);
}

/*
 * Layer 0: data/orig (file) and data/l1, data/l2 hardlinks to it. Layer 1
 * replaces data/orig, then a whiteout deletes data/l1: the content must
 * survive in the remaining link, read from layer 0 under its old name.
 */
static void test_hardlink_promotion(void)
{
        struct wh_err err = {0};
        struct wh_index *idx = wh_index_new();
        struct wh_entry *o = wh_entry_new("data/orig", WH_F_REG);
        o->size = 8;
        o->ordinal = 3;
        ok(wh_index_put(idx, o, &err) == 0, "put data/orig");
        ok(put(idx, "data/l1", WH_F_HARDLINK, 0, "data/orig") == 0, "put link l1");
        ok(put(idx, "data/l2", WH_F_HARDLINK, 0, "data/orig") == 0, "put link l2");
        struct wh_entry *n = wh_entry_new("data/orig", WH_F_REG);
        n->layer = 1;
        n->size = 3;
        ok(wh_index_put(idx, n, &err) == 0, "layer 1 replaces data/orig");

        struct wh_entry *l1 = wh_index_get(idx, "data/l1");
        struct wh_entry *l2 = wh_index_get(idx, "data/l2");
        ok(l1 && l1->type == WH_F_REG && l1->size == 8 && l1->layer == 0 &&
                   l1->ordinal == 3 && l1->src_path && !strcmp(l1->src_path, "data/orig"),
           "first link took over the old content");
        ok(l2 && l2->type == WH_F_HARDLINK && !strcmp(l2->link, "data/l1"),
           "second link points at the first");

        ok(wh_index_remove(idx, "data/l1", 1) == 1, "whiteout of data/l1");
        l2 = wh_index_get(idx, "data/l2");
        ok(l2 && l2->type == WH_F_REG && l2->size == 8 && l2->layer == 0 &&
                   l2->ordinal == 3 && !strcmp(l2->src_path, "data/orig"),
           "the last link keeps the layer 0 content and name");
        struct wh_entry *cur = wh_index_get(idx, "data/orig");
        ok(cur && cur->layer == 1 && cur->size == 3 && !cur->src_path,
           "the replacement is untouched");
        wh_index_free(idx);
}

int main(void)
{
        test_hardlink_promotion();
        test_put_get();
        test_many();
        test_sorted_order();
        test_whiteouts();
        test_resolve();
        test_intern();
        return done_testing();
}
