/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file index. Two structures share the nodes: an open-addressing hash
 * table (linear probing, backward-shift deletion, no tombstones) for lookups
 * by path, and a tree of parent/child links so that whiteouts and
 * dir->file replacements drop a subtree without scanning the whole index.
 * The root is a node without an entry.
 */
#include "index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "elf.h"

struct node {
        struct wh_entry *e; /* NULL only for the root */
        struct node *parent;
        struct node *first_child;
        struct node *prev, *next; /* siblings */
        uint64_t hash;
};

struct strpool {
        char **slots;
        size_t cap, n;
};

struct wh_index {
        struct node **slots;
        size_t cap; /* power of two */
        size_t n;
        struct node root;

        struct wh_entry **sorted;
        size_t n_sorted;
        int sorted_valid;

        struct strpool pool;
        int has_hardlinks;
};

#define MIN_CAP   1024
#define MAX_LINKS 40

static uint64_t hash_bytes(const char *s, size_t len)
{
        /* FNV-1a with a final mix: paths share long prefixes. */
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ULL;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
}

struct wh_index *wh_index_new(void)
{
        struct wh_index *idx = calloc(1, sizeof(*idx));
        if (!idx)
                return NULL;
        idx->slots = calloc(MIN_CAP, sizeof(*idx->slots));
        if (!idx->slots) {
                free(idx);
                return NULL;
        }
        idx->cap = MIN_CAP;
        return idx;
}

struct wh_entry *wh_entry_new(const char *path, enum wh_ftype type)
{
        struct wh_entry *e = calloc(1, sizeof(*e));
        if (!e)
                return NULL;
        e->path = strdup(path);
        if (!e->path) {
                free(e);
                return NULL;
        }
        e->type = type;
        e->spool_off = -1;
        return e;
}

struct wh_entry *wh_entry_free(struct wh_entry *e)
{
        if (!e)
                return NULL;
        free(e->path);
        free(e->link);
        for (size_t i = 0; i < e->n_xattrs; i++) {
                free(e->xattrs[i].name);
                free(e->xattrs[i].value);
        }
        free(e->xattrs);
        wh_elf_info_free(e->elf);
        free(e->shebang);
        free(e->content);
        free(e->src_path);
        free(e);
        return NULL;
}

int wh_xattr_wanted(const char *name)
{
        return !strcmp(name, "security.capability") || !strncmp(name, "user.", 5);
}

int wh_entry_add_xattr(struct wh_entry *e, const char *name, const void *value, size_t len)
{
        /* A file has a handful: a linear search for the place is enough. */
        size_t at = 0;
        int c = 1;
        while (at < e->n_xattrs && (c = strcmp(e->xattrs[at].name, name)) < 0)
                at++;
        if (at < e->n_xattrs && c == 0)
                return 0;
        struct wh_xattr *nx = realloc(e->xattrs, (e->n_xattrs + 1) * sizeof(*nx));
        if (!nx)
                return -ENOMEM;
        e->xattrs = nx;
        struct wh_xattr x = {
                .name = strdup(name), .value = malloc(len ? len : 1), .len = len};
        if (!x.name || !x.value) {
                free(x.name);
                free(x.value);
                return -ENOMEM;
        }
        memcpy(x.value, value, len);
        memmove(&nx[at + 1], &nx[at], (e->n_xattrs - at) * sizeof(*nx));
        nx[at] = x;
        e->n_xattrs++;
        return 0;
}

struct wh_index *wh_index_free(struct wh_index *idx)
{
        if (!idx)
                return NULL;
        for (size_t i = 0; i < idx->cap; i++) {
                if (idx->slots[i]) {
                        wh_entry_free(idx->slots[i]->e);
                        free(idx->slots[i]);
                }
        }
        free(idx->slots);
        free(idx->sorted);
        for (size_t i = 0; i < idx->pool.cap; i++)
                free(idx->pool.slots[i]);
        free(idx->pool.slots);
        free(idx);
        return NULL;
}

/* ---- hash table ---- */

static size_t find_slot(const struct wh_index *idx, const char *path, size_t len,
                        uint64_t h)
{
        size_t mask = idx->cap - 1;
        for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
                const struct node *n = idx->slots[i];
                if (!n)
                        return i;
                if (n->hash == h && strncmp(n->e->path, path, len) == 0 &&
                    n->e->path[len] == '\0')
                        return i;
        }
}

static struct node *lookup(const struct wh_index *idx, const char *path, size_t len)
{
        uint64_t h = hash_bytes(path, len);
        return idx->slots[find_slot(idx, path, len, h)];
}

static int grow(struct wh_index *idx)
{
        size_t ncap = idx->cap * 2;
        struct node **ns = calloc(ncap, sizeof(*ns));
        if (!ns)
                return -ENOMEM;
        for (size_t i = 0; i < idx->cap; i++) {
                struct node *n = idx->slots[i];
                if (!n)
                        continue;
                size_t j = (size_t)n->hash & (ncap - 1);
                while (ns[j])
                        j = (j + 1) & (ncap - 1);
                ns[j] = n;
        }
        free(idx->slots);
        idx->slots = ns;
        idx->cap = ncap;
        return 0;
}

static void table_delete(struct wh_index *idx, struct node *victim)
{
        size_t mask = idx->cap - 1;
        size_t i = (size_t)victim->hash & mask;
        while (idx->slots[i] != victim)
                i = (i + 1) & mask;
        /* Backward shift: move later members of the probe run into the hole. */
        size_t j = i;
        for (;;) {
                j = (j + 1) & mask;
                struct node *n = idx->slots[j];
                if (!n)
                        break;
                size_t home = (size_t)n->hash & mask;
                /* n may move to i only if i lies cyclically in [home, j). */
                if (((j - home) & mask) >= ((j - i) & mask)) {
                        idx->slots[i] = n;
                        i = j;
                }
        }
        idx->slots[i] = NULL;
        idx->n--;
}

/* ---- tree ---- */

static void link_child(struct node *parent, struct node *child)
{
        child->parent = parent;
        child->prev = NULL;
        child->next = parent->first_child;
        if (parent->first_child)
                parent->first_child->prev = child;
        parent->first_child = child;
}

static void unlink_child(struct node *child)
{
        if (child->prev)
                child->prev->next = child->next;
        else if (child->parent)
                child->parent->first_child = child->next;
        if (child->next)
                child->next->prev = child->prev;
        child->prev = child->next = NULL;
        child->parent = NULL;
}

/*
 * A regular file about to leave the index (replaced or whited out by a
 * later layer) may still be the target of hardlinks. Its content lives on
 * through them, as in an overlay: the first link becomes a regular file
 * that reads the old content (same layer, ordinal and name in that layer),
 * the other links point at it.
 */
static int links_to(const struct node *n, const struct wh_entry *target)
{
        return n && n->e && n->e != target && n->e->type == WH_F_HARDLINK &&
               strcmp(n->e->link, target->path) == 0;
}

static void promote_links(struct wh_index *idx, struct wh_entry *old)
{
        if (!idx->has_hardlinks || old->type != WH_F_REG)
                return;
        /* The heir is the first link by path, so the result does not depend
         * on hash order. */
        struct wh_entry *heir = NULL;
        for (size_t i = 0; i < idx->cap; i++)
                if (links_to(idx->slots[i], old) &&
                    (!heir || strcmp(idx->slots[i]->e->path, heir->path) < 0))
                        heir = idx->slots[i]->e;
        if (!heir)
                return;
        char *src = old->src_path ? TAKE_PTR(old->src_path) : strdup(old->path);
        if (!src)
                return;
        for (size_t i = 0; i < idx->cap; i++) {
                struct wh_entry *h = links_to(idx->slots[i], old) ? idx->slots[i]->e : NULL;
                char *l = h && h != heir ? strdup(heir->path) : NULL;
                if (l) {
                        free(h->link);
                        h->link = l;
                }
        }
        free(heir->link);
        heir->link = NULL;
        heir->type = WH_F_REG;
        heir->size = old->size;
        heir->layer = old->layer;
        heir->ordinal = old->ordinal;
        heir->src_path = src;
        heir->elf = TAKE_PTR(old->elf);
        heir->shebang = TAKE_PTR(old->shebang);
        heir->content = TAKE_PTR(old->content);
        heir->content_len = old->content_len;
}

static void retire_entry(struct wh_index *idx, struct wh_entry *e)
{
        if (e)
                promote_links(idx, e);
        wh_entry_free(e);
}

static void node_destroy(struct wh_index *idx, struct node *n)
{
        table_delete(idx, n);
        unlink_child(n);
        retire_entry(idx, n->e);
        free(n);
}

/* Drops every node below n (not n). Returns how many. */
static size_t drop_children(struct wh_index *idx, struct node *n)
{
        size_t count = 0;
        while (n->first_child) {
                struct node *c = n->first_child;
                count += drop_children(idx, c);
                node_destroy(idx, c);
                count++;
        }
        return count;
}

/*
 * Whiteout removal: nodes from layers below `below` go; a node that still
 * holds newer descendants stays (they need their parent) and now counts as
 * created by the whiteout's layer.
 */
static size_t prune(struct wh_index *idx, struct node *n, uint32_t below, int self)
{
        size_t count = 0;
        struct node *c = n->first_child;
        while (c) {
                struct node *next = c->next;
                count += prune(idx, c, below, 1);
                c = next;
        }
        if (!self || !n->e)
                return count;
        if (n->e->layer < below) {
                if (!n->first_child) {
                        node_destroy(idx, n);
                        return count + 1;
                }
                n->e->layer = below;
        }
        return count;
}

static struct node *insert_node(struct wh_index *idx, struct node *parent,
                                struct wh_entry *e)
{
        if ((idx->n + 1) * 2 > idx->cap && grow(idx) < 0)
                return NULL;
        struct node *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        size_t len = strlen(e->path);
        n->hash = hash_bytes(e->path, len);
        n->e = e;
        idx->slots[find_slot(idx, e->path, len, n->hash)] = n;
        idx->n++;
        link_child(parent, n);
        return n;
}

/* The node of the parent directory of path[0..len), created when missing. */
static int ensure_dir(struct wh_index *idx, const char *path, size_t len,
                      const struct wh_entry *like, struct node **ret, struct wh_err *err)
{
        if (len == 0) {
                *ret = &idx->root;
                return 0;
        }
        struct node *n = lookup(idx, path, len);
        if (n) {
                if (n->e->type != WH_F_DIR)
                        return wh_failx(err, ENOTDIR, "'%.*s' is not a directory", (int)len,
                                        path);
                *ret = n;
                return 0;
        }
        size_t plen = len;
        while (plen > 0 && path[plen - 1] != '/')
                plen--;
        struct node *parent;
        int r = ensure_dir(idx, path, plen > 0 ? plen - 1 : 0, like, &parent, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = strndup(path, len);
        if (!p)
                return wh_fail(err, ENOMEM, "index");
        struct wh_entry *d = wh_entry_new(p, WH_F_DIR);
        if (!d)
                return wh_fail(err, ENOMEM, "index");
        d->mode = 0755;
        d->layer = like->layer;
        d->ordinal = like->ordinal;
        d->mtime = like->mtime;
        n = insert_node(idx, parent, d);
        if (!n) {
                wh_entry_free(d);
                return wh_fail(err, ENOMEM, "index");
        }
        *ret = n;
        return 0;
}

int wh_index_put(struct wh_index *idx, struct wh_entry *e, struct wh_err *err)
{
        const char *path = e->path;
        size_t len = strlen(path);
        if (len == 0 || path[0] == '/' || path[len - 1] == '/')
                return wh_failx(err, EINVAL, "'%s': not a cleaned relative path", path);

        const char *slash = strrchr(path, '/');
        struct node *parent;
        int r = ensure_dir(idx, path, slash ? (size_t)(slash - path) : 0, e, &parent, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "'%s'", path);

        idx->sorted_valid = 0;
        if (e->type == WH_F_HARDLINK)
                idx->has_hardlinks = 1;
        struct node *old = lookup(idx, path, len);
        if (old) {
                /* A directory over a directory updates its metadata and keeps its
                 * contents, as tar extraction does; anything else replaces. */
                if (!(old->e->type == WH_F_DIR && e->type == WH_F_DIR))
                        drop_children(idx, old);
                struct wh_entry *prev = old->e;
                old->e = e;
                retire_entry(idx, prev);
                return 0;
        }
        if (!insert_node(idx, parent, e))
                return wh_fail(err, ENOMEM, "index '%s'", path);
        return 0;
}

struct wh_entry *wh_index_get(const struct wh_index *idx, const char *path)
{
        struct node *n = lookup(idx, path, strlen(path));
        return n ? n->e : NULL;
}

/* The directory entry above path[0, *len), or NULL; *len becomes its length. */
static struct wh_entry *parent_dir(const struct wh_index *idx, const char *path, size_t *len)
{
        const char *slash = memrchr(path, '/', *len);
        if (!slash)
                return NULL;
        *len = (size_t)(slash - path);
        struct node *n = lookup(idx, path, *len);
        return n && n->e && n->e->type == WH_F_DIR ? n->e : NULL;
}

size_t wh_index_keep_parents(struct wh_index *idx, const char *path, const char *reason)
{
        size_t marked = 0, len = strlen(path);
        for (struct wh_entry *d; (d = parent_dir(idx, path, &len)) && !d->keep_reason;) {
                d->keep_reason = reason;
                marked++;
        }
        return marked;
}

int wh_index_parent_unkept(const struct wh_index *idx, const char *path)
{
        size_t len = strlen(path);
        const struct wh_entry *d = parent_dir(idx, path, &len);
        return d && !d->keep_reason;
}

size_t wh_index_remove(struct wh_index *idx, const char *path, uint32_t below_layer)
{
        struct node *n = lookup(idx, path, strlen(path));
        if (!n || !*path)
                return 0;
        idx->sorted_valid = 0;
        return prune(idx, n, below_layer, 1);
}

size_t wh_index_clear_dir(struct wh_index *idx, const char *dir, uint32_t below_layer)
{
        struct node *n = *dir ? lookup(idx, dir, strlen(dir)) : &idx->root;
        if (!n)
                return 0;
        idx->sorted_valid = 0;
        return prune(idx, n, below_layer, 0);
}

size_t wh_index_count(const struct wh_index *idx)
{
        return idx->n;
}

static int cmp_entry(const void *a, const void *b)
{
        const struct wh_entry *x = *(struct wh_entry *const *)a;
        const struct wh_entry *y = *(struct wh_entry *const *)b;
        return strcmp(x->path, y->path);
}

struct wh_entry **wh_index_sorted(struct wh_index *idx, size_t *ret_n)
{
        if (!idx->sorted_valid) {
                struct wh_entry **v = realloc(idx->sorted, (idx->n + 1) * sizeof(*v));
                if (!v)
                        return NULL;
                idx->sorted = v;
                size_t k = 0;
                for (size_t i = 0; i < idx->cap; i++)
                        if (idx->slots[i])
                                v[k++] = idx->slots[i]->e;
                qsort(v, k, sizeof(*v), cmp_entry);
                idx->n_sorted = k;
                idx->sorted_valid = 1;
        }
        *ret_n = idx->n_sorted;
        return idx->sorted;
}

/* ---- string pool ---- */

const char *wh_index_intern(struct wh_index *idx, const char *s)
{
        struct strpool *p = &idx->pool;
        if ((p->n + 1) * 2 > p->cap) {
                size_t ncap = p->cap ? p->cap * 2 : 64;
                char **ns = calloc(ncap, sizeof(*ns));
                if (!ns)
                        return NULL;
                for (size_t i = 0; i < p->cap; i++) {
                        if (!p->slots[i])
                                continue;
                        size_t j = (size_t)hash_bytes(p->slots[i], strlen(p->slots[i])) &
                                   (ncap - 1);
                        while (ns[j])
                                j = (j + 1) & (ncap - 1);
                        ns[j] = p->slots[i];
                }
                free(p->slots);
                p->slots = ns;
                p->cap = ncap;
        }
        size_t mask = p->cap - 1;
        size_t i = (size_t)hash_bytes(s, strlen(s)) & mask;
        for (; p->slots[i]; i = (i + 1) & mask)
                if (strcmp(p->slots[i], s) == 0)
                        return p->slots[i];
        p->slots[i] = strdup(s);
        if (!p->slots[i])
                return NULL;
        p->n++;
        return p->slots[i];
}

/* ---- resolution ---- */

/* Pops the last component of cur (length *cur_len), stopping at the root. */
static void pop_component(char *cur, size_t *cur_len)
{
        size_t l = *cur_len;
        while (l > 0 && cur[l - 1] != '/')
                l--;
        if (l > 0)
                l--;
        cur[l] = '\0';
        *cur_len = l;
}

/* rest = target + "/" + tail; caller owns. */
static char *splice(const char *target, const char *tail)
{
        size_t a = strlen(target), b = strlen(tail);
        char *s = malloc(a + b + 2);
        if (!s)
                return NULL;
        memcpy(s, target, a);
        s[a] = '/';
        memcpy(s + a + 1, tail, b + 1);
        return s;
}

int wh_index_resolve(struct wh_index *idx, const char *path, int follow_last,
                     void (*on_link)(struct wh_entry *link, void *userdata), void *userdata,
                     struct wh_entry **ret, char **ret_path)
{
        _cleanup_free_ char *rest = strdup(path);
        /* cur never outgrows the index's longest path plus one component. */
        _cleanup_free_ char *cur = NULL;
        size_t cur_len = 0, cur_cap = 256;
        int links = 0;
        const char *p;

        cur = malloc(cur_cap);
        if (!rest || !cur)
                return -ENOMEM;
        cur[0] = '\0';
        p = rest;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *end = strchrnul(p, '/');
                size_t len = (size_t)(end - p);
                const char *after = end;
                while (*after == '/')
                        after++;
                int last = *after == '\0';

                if (len == 1 && p[0] == '.') {
                        p = end;
                        continue;
                }
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        pop_component(cur, &cur_len);
                        p = end;
                        continue;
                }
                size_t nlen = cur_len + (cur_len ? 1 : 0) + len;
                if (nlen + 1 > cur_cap) {
                        size_t ncap = (nlen + 1) * 2;
                        char *nc = realloc(cur, ncap);
                        if (!nc)
                                return -ENOMEM;
                        cur = nc;
                        cur_cap = ncap;
                }
                size_t saved = cur_len;
                if (cur_len)
                        cur[cur_len++] = '/';
                memcpy(cur + cur_len, p, len);
                cur_len += len;
                cur[cur_len] = '\0';

                struct node *n = lookup(idx, cur, cur_len);
                if (!n)
                        return -ENOENT;
                if (n->e->type == WH_F_SYMLINK && (!last || follow_last)) {
                        if (++links > MAX_LINKS)
                                return -ELOOP;
                        if (on_link)
                                on_link(n->e, userdata);
                        const char *target = n->e->link ? n->e->link : "";
                        char *nr = splice(target, after);
                        if (!nr)
                                return -ENOMEM;
                        free(rest);
                        rest = nr;
                        p = rest;
                        cur_len = target[0] == '/' ? 0 : saved;
                        cur[cur_len] = '\0';
                        continue;
                }
                if (!last && n->e->type != WH_F_DIR)
                        return -ENOTDIR;
                p = end;
        }

        struct wh_entry *e = cur_len ? lookup(idx, cur, cur_len)->e : NULL;
        if (ret_path)
                *ret_path = TAKE_PTR(cur);
        if (ret)
                *ret = e;
        return 0;
}
