/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The closure: what the workload needs, decided on the index.
 *
 * Marking is iterative: keeping an entry sets its reason, keeps its parent
 * directories, and queues it when it has something of its own to bring
 * (an ELF's interpreter and libraries, a script's interpreter, a symlink's
 * target, a hardlink's data). The queue is drained until empty, so deep
 * chains and symlink loops cost memory for the queue, never stack.
 *
 * The first reason recorded for an entry wins.
 *
 * Drop rule: drop patterns (the profile's, and the defaults below) filter
 * only paths that a glob or the expansion of a directory brought in (weak
 * keeps). A path required by an ELF dependency, an interpreter, a symlink
 * or hardlink that is kept, a feature's exact file or an exact keep path
 * (strong keeps) is kept anyway. A default drop pattern does not apply to
 * a glob or tree whose own directory lies inside it: keeping the tree
 * /usr/share/doc/foo (or the locale feature's message catalogs) is asking
 * for exactly what the default would drop.
 */
#include "closure.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "elf.h"
#include "features.h"
#include "ldso.h"
#include "log.h"
#include "path_safe.h"
#include "strv.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const default_drops[] = {
        "usr/share/doc/**",
        "usr/share/man/**",
        "usr/share/info/**",
        "usr/share/locale/**",
        "usr/share/lintian/**",
        "var/cache/apt/**",
        "var/lib/apt/lists/**",
        "var/cache/dnf/**",
        "var/cache/yum/**",
        "var/lib/dnf/**",
        "var/log/**",
        "usr/share/bug/**",
        "usr/share/common-licenses/**",
        NULL,
};

struct work {
        struct wh_entry *e;
        struct wh_entry *exe; /* program whose DT_RPATH applies to e's needs, or NULL */
};

struct wh_closure {
        struct wh_index *idx;
        const struct wh_closure_input *in;
        struct wh_ldso *ldso;
        char **path_dirs;
        char **drops;                  /* profile drop patterns, without leading '/' */
        const struct wh_elf_info *abi; /* of the first dynamic program met */

        struct work *queue;
        size_t q_head, q_len, q_cap;
        /* (entry, exe) pairs already queued: open addressing, power-of-two size */
        struct work *seen;
        size_t n_seen, cap_seen;

        /* Symlinks traversed by the last resolve() */
        struct wh_entry **links;
        size_t n_links, cap_links;
        int oom;
        int any_dynamic;
};

struct wh_index *wh_closure_index(struct wh_closure *c)
{
        return c->idx;
}

const struct wh_closure_input *wh_closure_input(struct wh_closure *c)
{
        return c->in;
}

/* ---- reasons ---- */

/* "what /of" or "what", interned; NULL on ENOMEM. */
static const char *reason(struct wh_closure *c, const char *what, const char *of)
{
        _cleanup_free_ char *s = NULL;
        if (!of)
                return wh_index_intern(c->idx, what);
        if (asprintf(&s, "%s /%s", what, of) < 0)
                return NULL;
        return wh_index_intern(c->idx, s);
}

/* ---- the queue ---- */

/* Only an exe with an RPATH that applies changes the search, so others fold into NULL. */
static struct wh_entry *exe_key(struct wh_entry *exe)
{
        if (exe && exe->elf && exe->elf->rpath && !exe->elf->runpath)
                return exe;
        return NULL;
}

static size_t pair_hash(const struct work *w, size_t mask)
{
        uint64_t h = (uint64_t)(uintptr_t)w->e * 0x9e3779b97f4a7c15ull;
        h ^= (uint64_t)(uintptr_t)w->exe * 0xc2b2ae3d27d4eb4full;
        return (size_t)(h >> 17) & mask;
}

/* 1 if w was new (and is now recorded), 0 if seen, -ENOMEM. */
static int seen_add(struct wh_closure *c, const struct work *w)
{
        if ((c->n_seen + 1) * 2 > c->cap_seen) {
                size_t ncap = c->cap_seen ? c->cap_seen * 2 : 256;
                struct work *ns = calloc(ncap, sizeof(*ns));
                if (!ns)
                        return -ENOMEM;
                for (size_t i = 0; i < c->cap_seen; i++) {
                        if (!c->seen[i].e)
                                continue;
                        size_t j = pair_hash(&c->seen[i], ncap - 1);
                        while (ns[j].e)
                                j = (j + 1) & (ncap - 1);
                        ns[j] = c->seen[i];
                }
                free(c->seen);
                c->seen = ns;
                c->cap_seen = ncap;
        }
        size_t mask = c->cap_seen - 1;
        for (size_t i = pair_hash(w, mask);; i = (i + 1) & mask) {
                if (!c->seen[i].e) {
                        c->seen[i] = *w;
                        c->n_seen++;
                        return 1;
                }
                if (c->seen[i].e == w->e && c->seen[i].exe == w->exe)
                        return 0;
        }
}

static int enqueue(struct wh_closure *c, struct wh_entry *e, struct wh_entry *exe)
{
        struct work w = {e, exe_key(exe)};
        int r = seen_add(c, &w);
        if (r <= 0)
                return r;
        if (c->q_len == c->q_cap) {
                size_t ncap = c->q_cap ? c->q_cap * 2 : 64;
                struct work *nq = realloc(c->queue, ncap * sizeof(*nq));
                if (!nq)
                        return -ENOMEM;
                c->queue = nq;
                c->q_cap = ncap;
        }
        c->queue[c->q_len++] = w;
        return 0;
}

/* ---- marking ---- */

static int keep_parents(struct wh_closure *c, const char *path)
{
        /* The reason is interned only for an entry that needs it. */
        if (!wh_index_parent_unkept(c->idx, path))
                return 0;
        const char *why = reason(c, "parent of", path);
        if (!why)
                return -ENOMEM;
        wh_index_keep_parents(c->idx, path, why);
        return 0;
}

/* 1 if the entry has something of its own to bring in. */
static int has_work(const struct wh_entry *e)
{
        switch (e->type) {
        case WH_F_SYMLINK:
        case WH_F_HARDLINK:
                return 1;
        case WH_F_REG:
                return e->elf || e->shebang;
        default:
                return 0;
        }
}

/* Keeps e for "what /of" (strong). exe: see struct work. */
static int mark(struct wh_closure *c, struct wh_entry *e, const char *what, const char *of,
                struct wh_entry *exe)
{
        if (!e)
                return 0;
        if (!e->keep_reason) {
                e->keep_reason = reason(c, what, of);
                if (!e->keep_reason)
                        return -ENOMEM;
                int r = keep_parents(c, e->path);
                if (r < 0)
                        return r;
        }
        return has_work(e) ? enqueue(c, e, exe) : 0;
}

static int literal_prefix_within(const char *dir, const char *pattern)
{
        size_t n = strcspn(pattern, "*?[\\");
        while (n > 0 && pattern[n - 1] != '/')
                n--;
        _cleanup_free_ char *lit = strndup(pattern, n ? n - 1 : 0);
        return lit && wh_path_has_prefix(dir, lit);
}

/* A drop pattern drops what it matches and everything below that. */
static int drop_match(const char *pattern, const char *path)
{
        if (!pattern[strcspn(pattern, "*?[\\")])
                return wh_path_has_prefix(path, pattern);
        _cleanup_free_ char *buf = strdup(path);
        if (!buf)
                return 0;
        for (char *slash = NULL;; *slash = '\0') {
                if (wh_glob_match(pattern, buf))
                        return 1;
                if (!(slash = strrchr(buf, '/')))
                        return 0;
        }
}

/* 1 if a weak keep of path, brought by a glob or tree rooted at src_dir, is dropped. */
static int dropped(const struct wh_closure *c, const char *path, const char *src_dir)
{
        for (char **d = c->drops; d && *d; d++)
                if (drop_match(*d, path))
                        return 1;
        for (const char *const *d = default_drops; *d; d++)
                if (!literal_prefix_within(src_dir, *d) && drop_match(*d, path))
                        return 1;
        return 0;
}

/* ---- resolution ---- */

static void on_link(struct wh_entry *link, void *userdata)
{
        struct wh_closure *c = userdata;
        if (c->n_links == c->cap_links) {
                size_t ncap = c->cap_links ? c->cap_links * 2 : 16;
                struct wh_entry **nl = realloc(c->links, ncap * sizeof(*nl));
                if (!nl) {
                        c->oom = 1;
                        return;
                }
                c->links = nl;
                c->cap_links = ncap;
        }
        c->links[c->n_links++] = link;
}

/*
 * Resolves path in the image (symlinks followed, collected in c->links).
 * 1 found (the root itself does not count), 0 absent, -ENOMEM.
 */
static int resolve(struct wh_closure *c, const char *path, struct wh_entry **ret,
                   char **ret_path)
{
        c->n_links = 0;
        int r = wh_index_resolve(c->idx, path, 1, on_link, c, ret, ret_path);
        if (c->oom || r == -ENOMEM)
                return -ENOMEM;
        if (r < 0) {
                if (r == -ELOOP)
                        wh_warn("%s: too many levels of symbolic links", path);
                return 0;
        }
        if (!*ret) {
                /* The root itself: always there, never an entry. */
                if (ret_path) {
                        free(*ret_path);
                        *ret_path = NULL;
                }
                return 0;
        }
        return 1;
}

/* Keeps the links the last resolve() crossed on the way to target. */
static int keep_links(struct wh_closure *c, const char *target)
{
        for (size_t i = 0; i < c->n_links; i++) {
                int r = mark(c, c->links[i], "symlink on the way to", target, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Keeps e, which the last resolve() found at real, and the links on the way (strong). */
static int keep_found(struct wh_closure *c, struct wh_entry *e, const char *real,
                      const char *what, const char *of, struct wh_entry **ret)
{
        int r = keep_links(c, real);
        if (r >= 0)
                r = mark(c, e, what, of, NULL);
        if (r < 0)
                return r;
        if (ret)
                *ret = e;
        return 1;
}

/* Resolves path and keeps it with its links (strong). 1 kept, 0 absent. */
static int keep_resolved(struct wh_closure *c, const char *path, const char *what,
                         const char *of, struct wh_entry **ret)
{
        struct wh_entry *e = NULL;
        _cleanup_free_ char *real = NULL;
        int r = resolve(c, path, &e, &real);
        if (r <= 0)
                return r;
        return keep_found(c, e, real, what, of, ret);
}

/* The regular file behind e (itself, or a hardlink's target). */
static struct wh_entry *data_entry(struct wh_closure *c, struct wh_entry *e)
{
        if (e && e->type == WH_F_HARDLINK && e->link)
                return wh_index_get(c->idx, e->link);
        return e;
}

/* ---- PATH lookup ---- */

static const char *env_get(char **env, const char *name)
{
        size_t n = strlen(name);
        for (; env && *env; env++)
                if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
                        return *env + n + 1;
        return NULL;
}

/* The profile's Env wins over the image's, as the run will see it. */
static const char *image_env(const struct wh_closure *c, const char *name)
{
        const char *v = c->in->profile ? env_get(c->in->profile->env, name) : NULL;
        return v ? v : env_get(c->in->env, name);
}

/*
 * Finds an executable on the image's PATH (or at a path with a '/',
 * relative ones from the workdir) and keeps it with its links.
 * 1 found, 0 not.
 */
static int keep_command(struct wh_closure *c, const char *name, const char *what,
                        const char *of, struct wh_entry **ret)
{
        if (strchr(name, '/')) {
                _cleanup_free_ char *p = NULL;
                if (name[0] != '/' && c->in->workdir) {
                        if (asprintf(&p, "%s/%s", c->in->workdir, name) < 0)
                                return -ENOMEM;
                }
                return keep_resolved(c, p ? p : name, what, of, ret);
        }
        for (char **d = c->path_dirs; *d; d++) {
                _cleanup_free_ char *cand = NULL, *real = NULL;
                struct wh_entry *e = NULL;
                if (asprintf(&cand, "%s/%s", *d, name) < 0)
                        return -ENOMEM;
                int r = resolve(c, cand, &e, &real);
                if (r < 0)
                        return r;
                struct wh_entry *data = r ? data_entry(c, e) : NULL;
                if (!data || data->type != WH_F_REG || !(data->mode & 0111))
                        continue;
                return keep_found(c, e, real, what, of, ret);
        }
        return 0;
}

/* ---- what each kind of entry brings ---- */

static int keep_needed(struct wh_closure *c, struct wh_entry *obj, struct wh_entry *exe,
                       const char *name)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_ char **variants = NULL;
        struct wh_ldso_query q = {.name = name, .obj = obj, .exe = exe, .abi = obj->elf};
        int r = wh_ldso_find(c->ldso, &q, &path, &variants);
        if (r < 0)
                return r;
        if (r == 0) {
                wh_warn("/%s: DT_NEEDED %s not found in the image", obj->path, name);
                return 0;
        }
        struct wh_entry *e = NULL;
        _cleanup_free_ char *real = NULL;
        r = resolve(c, path, &e, &real);
        if (r > 0 && (r = keep_links(c, real)) >= 0)
                r = mark(c, e, "DT_NEEDED of", obj->path, exe);
        for (char **v = variants; r >= 0 && *v; v++) {
                _cleanup_free_ char *vreal = NULL;
                r = resolve(c, *v, &e, &vreal);
                if (r > 0 && (r = keep_links(c, vreal)) >= 0)
                        r = mark(c, e, "DT_NEEDED of", obj->path, exe);
        }
        return r < 0 ? r : 0;
}

static int process_elf(struct wh_closure *c, struct wh_entry *e, struct wh_entry *exe)
{
        const struct wh_elf_info *info = e->elf;
        int r;
        if (info->interp) {
                r = keep_resolved(c, info->interp, "PT_INTERP of", e->path, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        wh_warn("/%s: PT_INTERP %s not found in the image", e->path,
                                info->interp);
        }
        if (info->interp || info->needed[0]) {
                c->any_dynamic = 1;
                if (!c->abi)
                        c->abi = info;
        }
        /* The program loading e passes its RPATH down; e is the program when none is. */
        if (!exe)
                exe = e;
        for (char **n = info->needed; *n; n++) {
                r = keep_needed(c, e, exe, *n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "env [-i] [-u NAME] [NAME=value]... [-S] program" -> program. */
static const char *env_program(char **words)
{
        for (char **w = words; *w; w++) {
                if (strcmp(*w, "-u") == 0 || strcmp(*w, "-C") == 0 ||
                    strcmp(*w, "--unset") == 0 || strcmp(*w, "--chdir") == 0) {
                        if (!w[1])
                                return NULL;
                        w++;
                        continue;
                }
                if ((*w)[0] == '-' || strchr(*w, '='))
                        continue;
                return *w;
        }
        return NULL;
}

static int split_words(const char *s, char ***ret)
{
        char **v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        while (*s) {
                s += strspn(s, " \t\r");
                size_t len = strcspn(s, " \t\r");
                if (!len)
                        break;
                if (wh_strv_push_n(&v, s, len) < 0) {
                        wh_strv_free(v);
                        return -ENOMEM;
                }
                s += len;
        }
        *ret = v;
        return 0;
}

static int process_script(struct wh_closure *c, struct wh_entry *e)
{
        _cleanup_strv_ char **words = NULL;
        /*
         * The kernel only reads #! when the file is executed; a file without
         * an x bit is run as "python3 file.py", if at all (library modules
         * carry #! lines for their tests).
         */
        if (!(e->mode & 0111))
                return 0;
        if (split_words(e->shebang, &words) < 0)
                return -ENOMEM;
        if (!words[0])
                return 0;
        int r = keep_resolved(c, words[0], "interpreter of", e->path, NULL);
        if (r == 0)
                wh_warn("/%s: interpreter %s not found in the image", e->path, words[0]);
        if (r <= 0)
                return r;
        const char *base = strrchr(words[0], '/');
        base = base ? base + 1 : words[0];
        if (strcmp(base, "env") != 0)
                return 0;
        /* The kernel passes everything after the interpreter as one argument; env -S splits
         * it. */
        const char *prog = env_program(words + 1);
        if (!prog)
                return 0;
        r = keep_command(c, prog, "interpreter of", e->path, NULL);
        if (r == 0)
                wh_warn("/%s: %s (run by env) not found on the image's PATH", e->path,
                        prog);
        return r < 0 ? r : 0;
}

static int process_link(struct wh_closure *c, struct wh_entry *e)
{
        if (e->type == WH_F_HARDLINK) {
                struct wh_entry *t = data_entry(c, e);
                return t ? mark(c, t, "target of", e->path, NULL) : 0;
        }
        struct wh_entry *t = NULL;
        _cleanup_free_ char *real = NULL;
        _cleanup_free_ char *abs = NULL;
        if (asprintf(&abs, "/%s", e->path) < 0)
                return -ENOMEM;
        int r = resolve(c, abs, &t, &real);
        if (r <= 0) {
                if (r == 0)
                        wh_debug("/%s: dangling symlink to %s", e->path,
                                 e->link ? e->link : "");
                return r;
        }
        r = keep_links(c, real);
        return r < 0 ? r : mark(c, t, "target of", e->path, NULL);
}

static int drain(struct wh_closure *c)
{
        while (c->q_head < c->q_len) {
                struct work w = c->queue[c->q_head++];
                int r = 0;
                if (w.e->type == WH_F_SYMLINK || w.e->type == WH_F_HARDLINK)
                        r = process_link(c, w.e);
                else if (w.e->elf)
                        r = process_elf(c, w.e, w.exe);
                else if (w.e->shebang)
                        r = process_script(c, w.e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the operations features are made of ---- */

struct glob_ctx {
        struct wh_closure *c;
        const char *why;
        const char *src_dir;
        int kept;
};

static void glob_on_link(struct wh_entry *link, void *userdata)
{
        struct glob_ctx *g = userdata;
        on_link(link, g->c);
}

static int glob_keep_one(struct wh_entry *e, void *userdata)
{
        struct glob_ctx *g = userdata;
        if (!e->keep_reason && dropped(g->c, e->path, g->src_dir ? g->src_dir : ""))
                return 0;
        g->kept = 1;
        return mark(g->c, e, g->why, NULL, NULL);
}

/* Weak keep of everything matching pattern; links to its directory kept when anything
 * matched. */
static int keep_glob_why(struct wh_closure *c, const char *pattern, const char *why)
{
        struct glob_ctx g = {.c = c, .why = why};
        _cleanup_free_ char *dir = NULL;
        /* The walk matches first and records the directory after, so drops see the
         * pattern's. */
        size_t n = strcspn(pattern, "*?[\\");
        while (n > 0 && pattern[n - 1] != '/')
                n--;
        _cleanup_free_ char *lit = strndup(pattern, n ? n - 1 : 0);
        if (!lit)
                return -ENOMEM;
        g.src_dir = lit + strspn(lit, "/");
        c->n_links = 0;
        int r = wh_glob_index(c->idx, pattern, glob_on_link, glob_keep_one, &g, &dir);
        if (c->oom)
                return -ENOMEM;
        if (r < 0)
                return r;
        if (g.kept && dir && (r = keep_links(c, dir)) < 0)
                return r;
        return g.kept;
}

int wh_closure_keep_glob(struct wh_closure *c, const char *pattern, const char *why)
{
        return keep_glob_why(c, pattern, why);
}

int wh_closure_keep_exact(struct wh_closure *c, const char *path, const char *why)
{
        return keep_resolved(c, path, why, NULL, NULL);
}

int wh_closure_keep_tree(struct wh_closure *c, const char *path, const char *why)
{
        struct wh_entry *e = NULL;
        _cleanup_free_ char *real = NULL;
        int r = resolve(c, path, &e, &real);
        if (r < 0)
                return r;
        if (r == 0 && !real) {
                /* Absent, or the root: "/" keeps the whole image. */
                if (wh_index_resolve(c->idx, path, 1, NULL, NULL, &e, NULL) < 0 || e)
                        return 0;
                real = strdup("");
                if (!real)
                        return -ENOMEM;
        } else {
                if ((r = keep_links(c, real)) < 0 || (r = mark(c, e, why, NULL, NULL)) < 0)
                        return r;
                if (e->type != WH_F_DIR)
                        return 1;
        }
        struct glob_ctx g = {.c = c, .why = why, .src_dir = real};
        _cleanup_free_ char *pattern = NULL;
        if (asprintf(&pattern, "%s%s**", real, real[0] ? "/" : "") < 0)
                return -ENOMEM;
        r = wh_glob_index(c->idx, pattern, NULL, glob_keep_one, &g, NULL);
        return r < 0 ? r : 1;
}

int wh_closure_keep_library(struct wh_closure *c, const char *name, const char *why)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_ char **variants = NULL;
        struct wh_ldso_query q = {.name = name, .abi = c->abi};
        int r = wh_ldso_find(c->ldso, &q, &path, &variants);
        if (r <= 0)
                return r;
        r = keep_resolved(c, path, why, NULL, NULL);
        for (char **v = variants; r >= 0 && *v; v++)
                r = keep_resolved(c, *v, why, NULL, NULL);
        return r < 0 ? r : 1;
}

struct wh_entry *wh_closure_lookup(struct wh_closure *c, const char *path)
{
        struct wh_entry *e = NULL;
        return wh_index_resolve(c->idx, path, 1, NULL, NULL, &e, NULL) == 0 ? e : NULL;
}

int wh_closure_keep_dir_mode(struct wh_closure *c, const char *path, uint32_t mode,
                             const char *why, struct wh_err *err)
{
        struct wh_entry *e = NULL;
        _cleanup_free_ char *clean = NULL;
        int r = resolve(c, path, &e, NULL);
        if (r < 0)
                return wh_fail(err, -r, "%s", path);
        if (r > 0) {
                if (e->type != WH_F_DIR) {
                        wh_warn("%s: exists and is not a directory, left as it is", path);
                        return 0;
                }
                e->mode = mode;
                r = keep_links(c, e->path);
                if (r >= 0)
                        r = mark(c, e, why, NULL, NULL);
                return r < 0 ? wh_fail(err, -r, "%s", path) : 1;
        }
        r = wh_path_clean(path, WH_PATH_ALLOW_ABS, &clean);
        if (r < 0)
                return wh_fail(err, -r, "%s", path);
        struct wh_entry *n = wh_entry_new(clean, WH_F_DIR);
        if (!n)
                return wh_fail(err, ENOMEM, "%s", path);
        n->mode = mode;
        r = wh_index_put(c->idx, n, err);
        if (r < 0) {
                wh_entry_free(n);
                if (r == -ENOMEM)
                        return r;
                /* e.g. a parent that is a dangling symlink: the image keeps its shape. */
                wh_warn("%s: cannot be created in the image: %s", path,
                        err ? err->msg : "");
                wh_err_clear(err);
                return 0;
        }
        return mark(c, wh_index_get(c->idx, clean), why, NULL, NULL) < 0 ? -ENOMEM : 1;
}

/* ---- roots ---- */

static int is_shell(const char *path)
{
        static const char *const shells[] = {"sh",  "bash", "dash", "ash",
                                             "zsh", "ksh",  NULL};
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        for (const char *const *s = shells; *s; s++)
                if (strcmp(base, *s) == 0)
                        return 1;
        return 0;
}

/* An argument that names a path in the image: "/x" or "--opt=/x". */
static int keep_arg(struct wh_closure *c, const char *arg, const char *what)
{
        const char *p = arg[0] == '/' ? arg : NULL;
        const char *eq = strchr(arg, '=');
        if (!p && arg[0] == '-' && eq && eq[1] == '/')
                p = eq + 1;
        if (!p || !p[1])
                return 0;
        return keep_resolved(c, p, what, NULL, NULL);
}

static int is_separator(const char *w)
{
        static const char *const seps[] = {";",  "&&",    "||",   "|",  "&",    "(",
                                           "{",  "!",     "then", "do", "else", "elif",
                                           "if", "while", "exec", NULL};
        for (const char *const *s = seps; *s; s++)
                if (strcmp(w, *s) == 0)
                        return 1;
        return w[0] && w[strlen(w) - 1] == ';';
}

/*
 * "sh -c 'cmd args; other'": the commands are looked up on PATH (builtins
 * will not be found, silently), absolute paths kept as arguments.
 */
static int keep_shell_command(struct wh_closure *c, const char *script, const char *what,
                              const char *arg_what)
{
        _cleanup_strv_ char **words = NULL;
        int cmd_pos = 1, r = 0;
        if (split_words(script, &words) < 0)
                return -ENOMEM;
        for (char **w = words; r >= 0 && *w; w++) {
                if (is_separator(*w)) {
                        cmd_pos = 1;
                        continue;
                }
                if (cmd_pos && strchr(*w, '=') && (*w)[0] != '=' && (*w)[0] != '/') {
                        continue;
                }
                if (cmd_pos) {
                        r = keep_command(c, *w, what, NULL, NULL);
                        cmd_pos = 0;
                } else {
                        r = keep_arg(c, *w, arg_what);
                }
        }
        return r < 0 ? r : 0;
}

static int keep_argv(struct wh_closure *c, char **argv, int exec_first, const char *what,
                     const char *arg_what)
{
        int r;
        if (!argv || !argv[0])
                return 0;
        if (exec_first) {
                r = keep_command(c, argv[0], what, NULL, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        wh_warn("%s: %s not found in the image", what, argv[0]);
                if (is_shell(argv[0]) && argv[1] && strcmp(argv[1], "-c") == 0 && argv[2] &&
                    (r = keep_shell_command(c, argv[2], what, arg_what)) < 0)
                        return r;
        }
        for (char **a = argv + (exec_first ? 1 : 0); *a; a++)
                if ((r = keep_arg(c, *a, arg_what)) < 0)
                        return r;
        return 0;
}

static int keep_roots(struct wh_closure *c)
{
        const struct wh_closure_input *in = c->in;
        const struct wh_profile *p = in->profile;
        int r;
        if (in->entrypoint && in->entrypoint[0]) {
                if ((r = keep_argv(c, in->entrypoint, 1, "entrypoint",
                                   "entrypoint argument")) < 0 ||
                    (r = keep_argv(c, in->cmd, 0, "cmd", "cmd argument")) < 0)
                        return r;
        } else if ((r = keep_argv(c, in->cmd, 1, "cmd", "cmd argument")) < 0) {
                return r;
        }
        if (p && p->entrypoint && p->entrypoint[0]) {
                if ((r = keep_argv(c, p->entrypoint, 1, "profile entrypoint",
                                   "profile entrypoint argument")) < 0 ||
                    (r = keep_argv(c, p->cmd, 0, "profile cmd", "profile cmd argument")) <
                            0)
                        return r;
        } else if (p && (r = keep_argv(c, p->cmd, 1, "profile cmd",
                                       "profile cmd argument")) < 0) {
                return r;
        }
        const char *wd = in->workdir ? in->workdir : (p ? p->workdir : NULL);
        if (wd && (r = keep_resolved(c, wd, "workdir", NULL, NULL)) < 0)
                return r;
        return 0;
}

static int keep_profile_paths(struct wh_closure *c)
{
        const struct wh_profile *p = c->in->profile;
        for (char **k = p ? p->keep : NULL; k && *k; k++) {
                const char *pat = *k + strspn(*k, "/");
                int r;
                const char *why = reason(c, "keep", pat);
                if (!why)
                        return -ENOMEM;
                /* Profiles carry globs for several image layouts (/usr/lib64
                 * and /usr/local on one, multiarch dirs on another): a glob
                 * that matches nothing is expected, a missing exact path is not. */
                int glob = pat[strcspn(pat, "*?[\\")] != '\0';
                if (glob)
                        r = keep_glob_why(c, pat, why);
                else
                        r = wh_closure_keep_tree(c, pat, why);
                if (r < 0)
                        return r;
                if (r == 0 && glob)
                        wh_info("keep /%s: matches nothing in the image", pat);
                else if (r == 0)
                        wh_warn("keep /%s: not in the image", pat);
        }
        return 0;
}

static int is_number(const char *s)
{
        return s[0] && s[strspn(s, "0123456789")] == '\0';
}

static int run_features(struct wh_closure *c, struct wh_err *err)
{
        const struct wh_profile *p = c->in->profile;
        const char *user = c->in->user ? c->in->user : (p ? p->user : NULL);
        int have_users = 0, r;
        for (char **n = p ? p->needs : NULL; n && *n; n++) {
                if (strcmp(*n, "users") == 0)
                        have_users = 1;
                if ((r = wh_feature_run(c, *n, err)) < 0 || (r = drain(c)) < 0)
                        return r;
        }
        /* A user given by name is looked up in the image's /etc/passwd by the runtime. */
        if (user && !have_users) {
                _cleanup_free_ char *name = strndup(user, strcspn(user, ":"));
                if (!name)
                        return -ENOMEM;
                if (name[0] && !is_number(name) &&
                    (r = wh_feature_run(c, "users", err)) < 0)
                        return r;
        }
        if ((r = wh_feature_run(c, "os-release", err)) < 0)
                return r;
        return drain(c);
}

/* ld.so consults its cache before the default directories; ldconfig needs the conf. */
static int keep_loader_config(struct wh_closure *c)
{
        static const char *const exact[] = {"/etc/ld.so.cache", "/etc/ld.so.conf", NULL};
        const char *why = "configuration of the dynamic loader";
        int r;
        if (!c->any_dynamic)
                return 0;
        for (const char *const *e = exact; *e; e++)
                if ((r = keep_resolved(c, *e, why, NULL, NULL)) < 0)
                        return r;
        if ((r = wh_closure_keep_tree(c, "/etc/ld.so.conf.d", why)) < 0)
                return r;
        return drain(c);
}

static void count(struct wh_index *idx, struct wh_closure_stats *stats)
{
        size_t n;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        memset(stats, 0, sizeof(*stats));
        for (size_t i = 0; v && i < n; i++) {
                if (v[i]->type == WH_F_DIR)
                        continue;
                uint64_t bytes = v[i]->type == WH_F_REG ? v[i]->size : 0;
                if (v[i]->keep_reason) {
                        stats->kept_files++;
                        stats->kept_bytes += bytes;
                } else {
                        stats->dropped_files++;
                        stats->dropped_bytes += bytes;
                }
        }
}

/* Splits on sep, dropping empty elements, optionally stripping leading '/'. */
static int split_on(const char *s, char sep, int strip_slash, char ***ret)
{
        char **v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        while (s && *s) {
                const char *end = strchrnul(s, sep);
                const char *b = s;
                if (strip_slash)
                        while (b < end && *b == '/')
                                b++;
                if (end > b && wh_strv_push_n(&v, b, (size_t)(end - b)) < 0) {
                        wh_strv_free(v);
                        return -ENOMEM;
                }
                s = *end ? end + 1 : end;
        }
        *ret = v;
        return 0;
}

static int closure_init(struct wh_closure *c, struct wh_err *err)
{
        const char *path = image_env(c, "PATH");
        const struct wh_profile *p = c->in->profile;
        if (split_on(path ? path : DEFAULT_PATH, ':', 0, &c->path_dirs) < 0)
                return wh_fail(err, ENOMEM, "closure");
        c->drops = calloc(1, sizeof(char *));
        if (!c->drops)
                return wh_fail(err, ENOMEM, "closure");
        for (char **d = p ? p->drop : NULL; d && *d; d++) {
                const char *pat = *d + strspn(*d, "/");
                if (*pat && wh_strv_push_dup(&c->drops, pat) < 0)
                        return wh_fail(err, ENOMEM, "closure");
        }
        return wh_ldso_new(c->idx, image_env(c, "LD_LIBRARY_PATH"), &c->ldso, err);
}

static void closure_release(struct wh_closure *c)
{
        wh_ldso_free(c->ldso);
        wh_strv_free(c->path_dirs);
        wh_strv_free(c->drops);
        free(c->queue);
        free(c->seen);
        free(c->links);
}

int wh_closure_run(struct wh_index *idx, const struct wh_closure_input *in,
                   struct wh_closure_stats *stats, struct wh_err *err)
{
        struct wh_closure c = {.idx = idx, .in = in};
        int r = closure_init(&c, err);
        if (r >= 0) {
                if ((r = keep_roots(&c)) >= 0 && (r = drain(&c)) >= 0 &&
                    (r = keep_profile_paths(&c)) >= 0 && (r = drain(&c)) >= 0)
                        r = run_features(&c, err);
                if (r >= 0)
                        r = keep_loader_config(&c);
                if (r < 0 && !(err && err->msg[0]))
                        r = wh_fail(err, -r, "closure");
        }
        closure_release(&c);
        if (r < 0)
                return r;
        if (stats)
                count(idx, stats);
        return 0;
}
