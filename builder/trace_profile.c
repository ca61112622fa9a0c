/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Turning a trace into a profile. The tracer hands over image paths (what
 * was opened, executed or found by a lookup); this file decides the keep
 * list. A directory whose every file the workload read is written as
 * DIR followed by "/" and "**" (so a later run that reads one more file of a package's data
 * tree still works), everything else as the exact path, escaped so that a
 * name with '*' or '[' stays literal.
 */
#include "trace_profile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "closure.h"
#include "path_safe.h"
#include "strv.h"

/* ---- string set ---- */

static size_t str_hash(const char *s)
{
        size_t h = 1469598103934665603ull; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return h;
}

static int strset_rehash(struct wh_strset *s, size_t n_slots)
{
        size_t *slots = calloc(n_slots, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++) {
                size_t j = str_hash(s->v[i]) & (n_slots - 1);
                while (slots[j])
                        j = (j + 1) & (n_slots - 1);
                slots[j] = i + 1;
        }
        free(s->slots);
        s->slots = slots;
        s->n_slots = n_slots;
        return 0;
}

long wh_strset_find(const struct wh_strset *s, const char *str)
{
        if (!s->n_slots)
                return -1;
        size_t j = str_hash(str) & (s->n_slots - 1);
        while (s->slots[j]) {
                if (!strcmp(s->v[s->slots[j] - 1], str))
                        return (long)(s->slots[j] - 1);
                j = (j + 1) & (s->n_slots - 1);
        }
        return -1;
}

int wh_strset_add(struct wh_strset *s, const char *str)
{
        long f = wh_strset_find(s, str);
        if (f >= 0)
                return (int)f;
        if (s->n >= (size_t)INT32_MAX)
                return -ENOMEM;
        if (s->n + 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                char **v = realloc(s->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                s->v = v;
                s->cap = cap;
        }
        if ((s->n + 1) * 2 > s->n_slots &&
            strset_rehash(s, s->n_slots ? s->n_slots * 2 : 128) < 0)
                return -ENOMEM;
        char *c = strdup(str);
        if (!c)
                return -ENOMEM;
        s->v[s->n] = c;
        s->v[s->n + 1] = NULL;
        size_t j = str_hash(c) & (s->n_slots - 1);
        while (s->slots[j])
                j = (j + 1) & (s->n_slots - 1);
        s->slots[j] = ++s->n;
        return (int)(s->n - 1);
}

void wh_strset_release(struct wh_strset *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        free(s->slots);
        *s = (struct wh_strset){0};
}

char **wh_strset_sorted(const struct wh_strset *s)
{
        char **v = calloc(s->n + 1, sizeof(*v));
        if (!v)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                if (!(v[i] = strdup(s->v[i]))) {
                        wh_strv_free(v);
                        return NULL;
                }
        wh_strv_sort(v);
        return v;
}

/* ---- paths ---- */

int wh_trace_join(const char *base, const char *path, char **ret)
{
        if (!path || !*path)
                return -EINVAL;
        _cleanup_free_ char *joined = NULL;
        if (*path != '/') {
                if (!base || *base != '/')
                        return -EINVAL;
                if (asprintf(&joined, "%s/%s", base, path) < 0)
                        return -ENOMEM;
                path = joined;
        }
        _cleanup_free_ char *clean = NULL;
        int r = wh_path_clean(path, WH_PATH_ALLOW_ABS | WH_PATH_ALLOW_DOTDOT, &clean);
        if (r < 0)
                return r;
        if (asprintf(ret, "/%s", clean) < 0)
                return -ENOMEM;
        return 0;
}

int wh_trace_image_path(const char *abs, char **ret)
{
        static const char *const pseudo[] = {"proc", "sys", "dev", NULL};
        /* readlink gives "pipe:[..]", "socket:[..]", "anon_inode:[..]" for
         * files that are not in any tree, and marks deleted ones. */
        if (!abs || *abs != '/' || strstr(abs, " (deleted)"))
                return 0;
        char *clean = NULL;
        int r = wh_path_clean(abs, WH_PATH_ALLOW_ABS | WH_PATH_ALLOW_DOTDOT, &clean);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        for (size_t i = 0; pseudo[i]; i++)
                if (wh_path_has_prefix(clean, pseudo[i])) {
                        free(clean);
                        return 0;
                }
        if (!*clean) {
                free(clean);
                return 0;
        }
        *ret = clean;
        return 1;
}

char *wh_glob_escape(const char *path)
{
        size_t n = 0;
        for (const char *p = path; *p; p++)
                n += strchr("*?[]\\", *p) ? 2 : 1;
        char *out = malloc(n + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *p = path; *p; p++) {
                if (strchr("*?[]\\", *p))
                        *o++ = '\\';
                *o++ = *p;
        }
        *o = '\0';
        return out;
}

/* ---- the keep list ---- */

static void note_link(struct wh_entry *link, void *userdata)
{
        (void)link;
        *(int *)userdata = 1;
}

struct used_sets {
        struct wh_strset real;    /* entries (not directories) that were used */
        struct wh_strset named;   /* used paths that go through a symlink, as named */
        struct wh_strset listed;  /* directories opened (listed, or a cwd) */
        struct wh_strset written; /* directories the workload created something in */
};

static void used_sets_release(struct used_sets *u)
{
        wh_strset_release(&u->real);
        wh_strset_release(&u->named);
        wh_strset_release(&u->listed);
        wh_strset_release(&u->written);
}

/*
 * Sorts one used path into u. A path through a symlink also goes to named,
 * since keeping the target alone would break the name the workload used.
 * A path the image lacks (the workload created it) stands for its deepest
 * existing directory.
 */
static int resolve_used(struct wh_index *idx, const char *p, struct used_sets *u)
{
        _cleanup_free_ char *cur = strdup(p);
        if (!cur)
                return -ENOMEM;
        for (int first = 1;; first = 0) {
                struct wh_entry *e = NULL;
                _cleanup_free_ char *rp = NULL;
                int links = 0;
                int r = wh_index_resolve(idx, cur, !first, note_link, &links, &e, &rp);
                if (r == -ENOMEM)
                        return r;
                if (r == 0 && !e)
                        return 0; /* the root */
                if (r == 0 && (first || e->type == WH_F_DIR)) {
                        struct wh_strset *to = !first                ? &u->written
                                               : e->type == WH_F_DIR ? &u->listed
                                                                     : &u->real;
                        if (wh_strset_add(to, rp) < 0)
                                return -ENOMEM;
                        if (links && first && e->type != WH_F_DIR &&
                            wh_strset_add(&u->named, cur) < 0)
                                return -ENOMEM;
                        return 0;
                }
                if (r == 0)
                        return 0; /* a file where a directory was expected */
                char *slash = strrchr(cur, '/');
                if (!slash)
                        return 0;
                *slash = '\0';
        }
}

/* 1 when a proper ancestor of path (or path itself, with self) is in dirs. */
static int under(const struct wh_strset *dirs, const char *path, int self)
{
        _cleanup_free_ char *c = strdup(path);
        if (!c)
                return 0;
        if (self && wh_strset_find(dirs, c) >= 0)
                return 1;
        for (char *s = strrchr(c, '/'); s; s = strrchr(c, '/')) {
                *s = '\0';
                if (wh_strset_find(dirs, c) >= 0)
                        return 1;
        }
        return 0;
}

struct dir_counts {
        struct wh_strset dirs;
        size_t *total, *used;
        size_t cap;
};

static int count_entry(struct dir_counts *dc, const char *path, int is_used)
{
        _cleanup_free_ char *c = strdup(path);
        if (!c)
                return -ENOMEM;
        for (char *s = strrchr(c, '/'); s; s = strrchr(c, '/')) {
                *s = '\0';
                int i = wh_strset_add(&dc->dirs, c);
                if (i < 0)
                        return i;
                if ((size_t)i >= dc->cap) {
                        size_t cap = dc->cap ? dc->cap * 2 : 256;
                        size_t *t = realloc(dc->total, cap * sizeof(*t));
                        if (!t)
                                return -ENOMEM;
                        dc->total = t;
                        size_t *u = realloc(dc->used, cap * sizeof(*u));
                        if (!u)
                                return -ENOMEM;
                        dc->used = u;
                        memset(dc->total + dc->cap, 0, (cap - dc->cap) * sizeof(*t));
                        memset(dc->used + dc->cap, 0, (cap - dc->cap) * sizeof(*u));
                        dc->cap = cap;
                }
                dc->total[i]++;
                dc->used[i] += is_used ? 1 : 0;
        }
        return 0;
}

static void dir_counts_release(struct dir_counts *dc)
{
        wh_strset_release(&dc->dirs);
        free(dc->total);
        free(dc->used);
}

/*
 * Counts the non-directory entries below each directory into dc (the
 * caller's, released by it) and returns the directories whose every one
 * of them was used.
 */
static int full_dirs(struct wh_index *idx, const struct wh_strset *real, size_t min,
                     struct dir_counts *dc, struct wh_strset *ret)
{
        size_t n = 0;
        struct wh_entry **all = wh_index_sorted(idx, &n);
        if (!all && n)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (all[i]->type == WH_F_DIR)
                        continue;
                int r = count_entry(dc, all[i]->path,
                                    wh_strset_find(real, all[i]->path) >= 0);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < dc->dirs.n; i++)
                if (dc->total[i] >= (min ? min : 1) && dc->used[i] == dc->total[i] &&
                    wh_strset_add(ret, dc->dirs.v[i]) < 0)
                        return -ENOMEM;
        return 0;
}

static int push_keep(struct wh_strset *out, const char *path, const char *suffix)
{
        _cleanup_free_ char *esc = wh_glob_escape(path);
        _cleanup_free_ char *k = NULL;
        if (!esc || asprintf(&k, "/%s%s", esc, suffix) < 0)
                return -ENOMEM;
        return wh_strset_add(out, k) < 0 ? -ENOMEM : 0;
}

int wh_trace_keep_list(struct wh_index *idx, const struct wh_strset *used,
                       const struct wh_trace_keep_opts *opts, char ***ret_keep,
                       struct wh_err *err)
{
        _cleanup_(used_sets_release) struct used_sets u = {0};
        _cleanup_(dir_counts_release) struct dir_counts dc = {0};
        struct wh_strset full = {0}, out = {0};
        int r = 0;
        for (size_t i = 0; i < used->n && r >= 0; i++)
                r = resolve_used(idx, used->v[i], &u);
        if (r >= 0)
                r = full_dirs(idx, &u.real, opts ? opts->min_collapse : 2, &dc, &full);
        for (size_t i = 0; i < full.n && r >= 0; i++)
                if (!under(&full, full.v[i], 0))
                        r = push_keep(&out, full.v[i], "/**");
        for (size_t i = 0; i < u.real.n && r >= 0; i++)
                if (!under(&full, u.real.v[i], 1))
                        r = push_keep(&out, u.real.v[i], "");
        for (size_t i = 0; i < u.named.n && r >= 0; i++)
                if (!under(&full, u.named.v[i], 1))
                        r = push_keep(&out, u.named.v[i], "");
        /* A kept directory brings its whole tree (closure.c). One that was
         * only listed is written when that costs nothing (nothing below it
         * but directories); one the workload created files in always, since
         * it must exist; the rest exist anyway as parents of kept files. */
        for (size_t i = 0; i < u.listed.n && r >= 0; i++)
                if (wh_strset_find(&dc.dirs, u.listed.v[i]) < 0 &&
                    !under(&full, u.listed.v[i], 1))
                        r = push_keep(&out, u.listed.v[i], "");
        for (size_t i = 0; i < u.written.n && r >= 0; i++)
                if (!under(&full, u.written.v[i], 1))
                        r = push_keep(&out, u.written.v[i], "");
        char **keep = NULL;
        if (r >= 0 && !(keep = wh_strset_sorted(&out)))
                r = -ENOMEM;
        wh_strset_release(&full);
        wh_strset_release(&out);
        if (r < 0)
                return wh_fail(err, -r, "keep list");
        *ret_keep = keep;
        return 0;
}

/* ---- features ---- */

static int starts(const char *s, const char *prefix)
{
        return !strncmp(s, prefix, strlen(prefix));
}

static const char *zone_of(const char *p)
{
        static const char *const skip[] = {
                "posixrules",        "tzdata.zi",   "zone.tab",
                "zone1970.tab",      "iso3166.tab", "leapseconds",
                "leap-seconds.list", "localtime",   NULL};
        if (!starts(p, "usr/share/zoneinfo/"))
                return NULL;
        p += strlen("usr/share/zoneinfo/");
        if (starts(p, "posix/") || starts(p, "right/"))
                p = strchr(p, '/') + 1;
        for (size_t i = 0; skip[i]; i++)
                if (!strcmp(p, skip[i]))
                        return NULL;
        return *p ? p : NULL;
}

static int locale_of(const char *p, char *buf, size_t len)
{
        if (!starts(p, "usr/lib/locale/"))
                return 0;
        p += strlen("usr/lib/locale/");
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!n || n >= len || !strncmp(p, "locale-archive", n))
                return 0;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return 1;
}

static int is_ca_path(const char *p)
{
        static const char *const dirs[] = {"etc/ssl/certs",     "etc/pki/tls/certs",
                                           "etc/pki/ca-trust",  "usr/share/ca-certificates",
                                           "etc/ssl/cert.pem",  "usr/lib/ssl/cert.pem",
                                           "usr/lib/ssl/certs", NULL};
        for (size_t i = 0; dirs[i]; i++)
                if (wh_path_has_prefix(p, dirs[i]))
                        return 1;
        return 0;
}

int wh_trace_infer_needs(const struct wh_strset *used, char ***ret)
{
        _cleanup_strv_ char **needs = calloc(1, sizeof(char *));
        struct wh_strset zones = {0};
        int r = needs ? 0 : -ENOMEM;
        for (size_t i = 0; i < used->n && r >= 0; i++) {
                const char *p = used->v[i], *base = strrchr(p, '/');
                base = base ? base + 1 : p;
                char loc[128];
                const char *zone = zone_of(p);
                if (!strcmp(p, "etc/nsswitch.conf") || starts(base, "libnss_"))
                        r = wh_strv_add(&needs, "nss");
                else if (is_ca_path(p))
                        r = wh_strv_add(&needs, "ca-certificates");
                else if (zone)
                        r = wh_strset_add(&zones, zone);
                else if (locale_of(p, loc, sizeof(loc))) {
                        _cleanup_free_ char *f = NULL;
                        r = asprintf(&f, "locale:%s", loc) < 0 ? -ENOMEM
                                                               : wh_strv_add(&needs, f);
                } else if (strstr(p, "/gconv/") && starts(p, "usr/lib"))
                        r = wh_strv_add(&needs, "gconv");
        }
        if (r >= 0 && zones.n == 1) {
                _cleanup_free_ char *f = NULL;
                r = asprintf(&f, "tzdata:%s", zones.v[0]) < 0 ? -ENOMEM
                                                              : wh_strv_add(&needs, f);
        } else if (r >= 0 && zones.n > 1) {
                r = wh_strv_add(&needs, "tzdata");
        }
        wh_strset_release(&zones);
        if (r < 0)
                return -ENOMEM;
        wh_strv_sort(needs);
        *ret = TAKE_PTR(needs);
        return 0;
}

/* ---- merging runs ---- */

/* The literal path of a keep entry ("usr/lib/x" for "/usr/lib/x" or its tree glob),
 * or NULL when it holds glob characters. Caller owns. */
static char *literal_of(const char *k, int *ret_tree)
{
        size_t n = strlen(k);
        *ret_tree = n >= 3 && !strcmp(k + n - 3, "/**");
        if (*ret_tree)
                n -= 3;
        char *out = malloc(n + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = k[0] == '/' ? 1 : 0; i < n; i++) {
                if (k[i] == '\\' && i + 1 < n) {
                        *o++ = k[++i];
                        continue;
                }
                if (strchr("*?[", k[i])) {
                        free(out);
                        return NULL;
                }
                *o++ = k[i];
        }
        *o = '\0';
        return out;
}

/* 1 when another tree glob entry of keep covers k (a literal path or tree). */
static int covered(char *const *keep, const char *k)
{
        int tree;
        _cleanup_free_ char *lit = literal_of(k, &tree);
        if (!lit)
                return 0;
        for (size_t i = 0; keep[i]; i++) {
                size_t n = strlen(keep[i]);
                if (keep[i] == k || strcmp(k, keep[i]) == 0 || n < 4 ||
                    strcmp(keep[i] + n - 3, "/**"))
                        continue;
                if (wh_glob_match(keep[i] + 1, lit))
                        return 1;
        }
        return 0;
}

int wh_trace_profile_merge(struct wh_profile *dst, const struct wh_profile *src,
                           struct wh_err *err)
{
        int r = wh_profile_merge(dst, src, err);
        if (r < 0)
                return r;
        size_t n = 0, w = 0;
        while (dst->keep[n])
                n++;
        /* Decide first, then compact: covered() reads the whole list. */
        _cleanup_free_ char *drop = calloc(n + 1, 1);
        if (!drop)
                return wh_fail(err, ENOMEM, "merge");
        for (size_t i = 0; i < n; i++)
                drop[i] = (char)covered(dst->keep, dst->keep[i]);
        for (size_t i = 0; i < n; i++) {
                if (drop[i])
                        free(dst->keep[i]);
                else
                        dst->keep[w++] = dst->keep[i];
        }
        dst->keep[w] = NULL;
        wh_strv_sort(dst->keep);
        wh_strv_sort(dst->needs);
        if (dst->syscalls && !(dst->syscalls[0] && !strcmp(dst->syscalls[0], "default")))
                wh_strv_sort(dst->syscalls);
        return 0;
}
