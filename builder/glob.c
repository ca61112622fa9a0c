/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Glob matching for keep/drop patterns. Two levels, each with the classic
 * "remember the last star and retry one unit further" loop, which is
 * linear-ish and cannot blow up the way naive recursion does:
 *   - across components, where a component that is exactly "**" is the
 *     star and matches zero or more whole components;
 *   - within a component, where '*' is the star; '?', '[...]' and
 *     literal characters match one character each, never '/'.
 * A "**" that is not a whole component ("lib**.so") acts as '*'. Since
 * "**" may match zero components, a pattern ending in a "**" component
 * also matches the directory that component sits in.
 * A backslash makes the next character literal.
 */
#include "closure.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"

/* Matches a class at p (just after '['); sets *next past ']' or returns -1 if unterminated.
 */
static int class_match(const char *p, const char *end, char c, const char **next)
{
        bool neg = false, hit = false;
        if (p < end && (*p == '!' || *p == '^')) {
                neg = true;
                p++;
        }
        const char *start = p;
        while (p < end && (*p != ']' || p == start)) {
                char lo = *p, hi;
                if (lo == '\\' && p + 1 < end)
                        lo = *++p;
                p++;
                hi = lo;
                if (p + 1 < end && *p == '-' && p[1] != ']') {
                        hi = p[1];
                        if (hi == '\\' && p + 2 < end) {
                                hi = p[2];
                                p++;
                        }
                        p += 2;
                }
                if ((unsigned char)c >= (unsigned char)lo &&
                    (unsigned char)c <= (unsigned char)hi)
                        hit = true;
        }
        if (p >= end)
                return -1;
        *next = p + 1;
        return hit != neg;
}

/* Matches one pattern token at *pp against c; advances *pp. 1 match, 0 not. */
static int token_match(const char **pp, const char *pend, char c)
{
        const char *p = *pp;
        if (*p == '?') {
                *pp = p + 1;
                return 1;
        }
        if (*p == '[') {
                const char *next;
                int r = class_match(p + 1, pend, c, &next);
                if (r >= 0) {
                        *pp = next;
                        return r;
                }
                /* An unterminated '[' is a literal. */
        }
        if (*p == '\\' && p + 1 < pend)
                p++;
        *pp = p + 1;
        return *p == c;
}

/* One component: pattern [p, pend) against string [s, send). */
static bool component_match(const char *p, const char *pend, const char *s,
                            const char *send)
{
        const char *star_p = NULL, *star_s = NULL;
        while (s < send) {
                if (p < pend && *p == '*') {
                        while (p < pend && *p == '*')
                                p++;
                        star_p = p;
                        star_s = s;
                        continue;
                }
                if (p < pend) {
                        const char *np = p;
                        if (token_match(&np, pend, *s)) {
                                p = np;
                                s++;
                                continue;
                        }
                }
                if (!star_p)
                        return false;
                p = star_p;
                s = ++star_s;
        }
        while (p < pend && *p == '*')
                p++;
        return p == pend;
}

static const char *comp_end(const char *s)
{
        return strchrnul(s, '/');
}

static bool is_globstar(const char *p, const char *pend)
{
        return pend - p == 2 && p[0] == '*' && p[1] == '*';
}

/* Advances past the component at s and its '/', or to the final NUL. */
static const char *comp_next(const char *s)
{
        const char *e = comp_end(s);
        return *e ? e + 1 : e;
}

int wh_glob_match(const char *pattern, const char *path)
{
        const char *p = pattern, *s = path;
        const char *star_p = NULL, *star_s = NULL;

        for (;;) {
                if (*p && is_globstar(p, comp_end(p))) {
                        p = comp_next(p);
                        star_p = p;
                        star_s = s;
                        continue;
                }
                /* Globstars were consumed above, so what is left must be empty. */
                if (!*s)
                        return !*p;
                if (*p) {
                        const char *pe = comp_end(p), *se = comp_end(s);
                        if (component_match(p, pe, s, se)) {
                                p = comp_next(p);
                                s = comp_next(s);
                                continue;
                        }
                }
                if (!star_p)
                        return 0;
                /* Let the last "**" swallow one more component and retry. */
                p = star_p;
                if (!*star_s)
                        return 0;
                star_s = comp_next(star_s);
                s = star_s;
        }
}

static bool has_magic(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
                        return true;
        return false;
}

/* First entry in the sorted array whose path is >= key. */
static size_t lower_bound(struct wh_entry *const *v, size_t n, const char *key)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(v[mid]->path, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Matches rest against every entry below dir (dir itself as ""). */
static int walk_below(struct wh_index *idx, const char *dir, const char *rest,
                      int (*fn)(struct wh_entry *e, void *userdata), void *userdata)
{
        size_t n, dlen = strlen(dir), count = 0;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        _cleanup_free_ char *key = NULL;
        if (!v)
                return -ENOMEM;
        if (dlen) {
                struct wh_entry *d = wh_index_get(idx, dir);
                if (!d || d->type != WH_F_DIR)
                        return 0;
                if (wh_glob_match(rest, "")) {
                        int r = fn(d, userdata);
                        if (r < 0)
                                return r;
                        count++;
                }
        }
        if (asprintf(&key, "%s%s", dir, dlen ? "/" : "") < 0)
                return -ENOMEM;
        size_t klen = strlen(key);
        for (size_t i = lower_bound(v, n, key); i < n; i++) {
                if (strncmp(v[i]->path, key, klen) != 0)
                        break;
                if (!wh_glob_match(rest, v[i]->path + klen))
                        continue;
                int r = fn(v[i], userdata);
                if (r < 0)
                        return r;
                count++;
        }
        return (int)(count > INT32_MAX ? INT32_MAX : count);
}

int wh_glob_index(struct wh_index *idx, const char *pattern,
                  void (*on_link)(struct wh_entry *link, void *userdata),
                  int (*fn)(struct wh_entry *e, void *userdata), void *userdata,
                  char **ret_dir)
{
        const char *p = pattern, *rest = NULL;
        _cleanup_free_ char *prefix = NULL, *dir = NULL;
        struct wh_entry *e = NULL;
        int r;

        while (*p == '/')
                p++;
        /* Split off the leading components that hold no glob characters. */
        for (const char *c = p; *c;) {
                const char *end = strchrnul(c, '/');
                if (has_magic(c, (size_t)(end - c))) {
                        rest = c;
                        break;
                }
                c = *end ? end + 1 : end;
        }
        if (!rest) {
                r = wh_index_resolve(idx, p, 1, on_link, userdata, &e, &dir);
                if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP || (r == 0 && !e))
                        return 0;
                if (r < 0)
                        return r;
                r = fn(e, userdata);
                if (r >= 0 && ret_dir)
                        *ret_dir = TAKE_PTR(dir);
                return r < 0 ? r : 1;
        }
        prefix = strndup(p, rest > p ? (size_t)(rest - p - 1) : 0);
        if (!prefix)
                return -ENOMEM;
        if (prefix[0]) {
                r = wh_index_resolve(idx, prefix, 1, on_link, userdata, &e, &dir);
                if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                        return 0;
                if (r < 0)
                        return r;
        } else {
                dir = strdup("");
                if (!dir)
                        return -ENOMEM;
        }
        r = walk_below(idx, dir, rest, fn, userdata);
        if (r >= 0 && ret_dir)
                *ret_dir = TAKE_PTR(dir);
        return r;
}
