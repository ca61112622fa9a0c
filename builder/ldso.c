/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Library search as glibc's ld.so does it (elf/dl-load.c), on the index:
 *   1. unless the object has DT_RUNPATH: its DT_RPATH, then the program's;
 *   2. LD_LIBRARY_PATH;
 *   3. the object's DT_RUNPATH;
 *   4. ld.so.cache, which we replay from the ld.so.conf it was built from;
 *   5. the default directories of the ABI.
 * In each directory the glibc-hwcaps subdirectories come first. A
 * candidate that is not an ELF of the right class and machine is skipped,
 * as ld.so skips a 32-bit library met in a 64-bit search.
 */
#include "ldso.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "closure.h"
#include "strv.h"

#define MAX_CONF_DEPTH 8
/* Each file is read once, so includes that include each other cannot fan out. */
#define MAX_CONF_FILES 256

struct wh_ldso {
        struct wh_index *idx;
        char **ld_library_path;
        char **conf_dirs;
        size_t n_conf;
        const struct wh_entry *conf_read[MAX_CONF_FILES];
        size_t n_conf_read;
};

static int strv_contains(char **v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return 1;
        return 0;
}

/* Splits a search list on any of seps, dropping empty elements. */
static int split_list(const char *s, const char *seps, char ***ret)
{
        char **v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        while (s && *s) {
                size_t len = strcspn(s, seps);
                if (len) {
                        if (wh_strv_push_n(&v, s, len) < 0) {
                                wh_strv_free(v);
                                return -ENOMEM;
                        }
                }
                s += len;
                if (*s)
                        s++;
        }
        *ret = v;
        return 0;
}

/* ---- ld.so.conf ---- */

struct conf_ctx {
        struct wh_ldso *l;
        int depth;
        int r;
};

static int conf_read(struct wh_ldso *l, const char *file, int depth);

static int conf_include_one(struct wh_entry *e, void *userdata)
{
        struct conf_ctx *cc = userdata;
        _cleanup_free_ char *abs = NULL;
        if (e->type != WH_F_REG)
                return 0;
        if (asprintf(&abs, "/%s", e->path) < 0)
                return -ENOMEM;
        return conf_read(cc->l, abs, cc->depth + 1);
}

static int conf_include(struct wh_ldso *l, const char *file, const char *patterns,
                        int depth)
{
        _cleanup_strv_ char **v = NULL;
        if (split_list(patterns, " \t", &v) < 0)
                return -ENOMEM;
        for (char **p = v; *p; p++) {
                _cleanup_free_ char *pat = NULL;
                const char *slash = strrchr(file, '/');
                /* ldconfig reads a relative include from the including file's directory. */
                if ((*p)[0] == '/')
                        pat = strdup(*p);
                else if (asprintf(&pat, "%.*s/%s", slash ? (int)(slash - file) : 0, file,
                                  *p) < 0)
                        pat = NULL;
                if (!pat)
                        return -ENOMEM;
                struct conf_ctx cc = {.l = l, .depth = depth};
                int r = wh_glob_index(l->idx, pat, NULL, conf_include_one, &cc, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int conf_add_dirs(struct wh_ldso *l, const char *line)
{
        _cleanup_strv_ char **v = NULL;
        if (split_list(line, " \t:,", &v) < 0)
                return -ENOMEM;
        for (char **p = v; *p; p++) {
                /* "dir=TYPE" is libc5-era syntax; the type is ignored. */
                char *eq = strchr(*p, '=');
                if (eq)
                        *eq = '\0';
                char *s = *p;
                while (*s == '/')
                        s++;
                while (strlen(s) > 0 && s[strlen(s) - 1] == '/')
                        s[strlen(s) - 1] = '\0';
                if (!*s || strv_contains(l->conf_dirs, s))
                        continue;
                if (wh_strv_push_dup(&l->conf_dirs, s) < 0)
                        return -ENOMEM;
                l->n_conf++;
        }
        return 0;
}

static int conf_line(struct wh_ldso *l, const char *file, char *line, int depth)
{
        char *hash = strchr(line, '#');
        if (hash)
                *hash = '\0';
        line += strspn(line, " \t\r");
        size_t len = strlen(line);
        while (len && strchr(" \t\r", line[len - 1]))
                line[--len] = '\0';
        if (!len)
                return 0;
        if (strncmp(line, "include", 7) == 0 && (line[7] == ' ' || line[7] == '\t'))
                return conf_include(l, file, line + 8, depth);
        if (strncmp(line, "hwcap", 5) == 0 && (line[5] == ' ' || line[5] == '\t'))
                return 0;
        return conf_add_dirs(l, line);
}

static int conf_read(struct wh_ldso *l, const char *file, int depth)
{
        struct wh_entry *e = NULL;
        if (depth > MAX_CONF_DEPTH)
                return 0;
        if (wh_index_resolve(l->idx, file, 1, NULL, NULL, &e, NULL) < 0 || !e ||
            e->type != WH_F_REG || !e->content)
                return 0;
        for (size_t i = 0; i < l->n_conf_read; i++)
                if (l->conf_read[i] == e)
                        return 0;
        if (l->n_conf_read == MAX_CONF_FILES)
                return 0;
        l->conf_read[l->n_conf_read++] = e;
        _cleanup_free_ char *text = strndup(e->content, e->content_len);
        if (!text)
                return -ENOMEM;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                int r = conf_line(l, file, line, depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

int wh_ldso_new(struct wh_index *idx, const char *ld_library_path, struct wh_ldso **ret,
                struct wh_err *err)
{
        struct wh_ldso *l = calloc(1, sizeof(*l));
        if (!l)
                return wh_fail(err, ENOMEM, "library search");
        l->idx = idx;
        l->conf_dirs = calloc(1, sizeof(char *));
        int r = l->conf_dirs ? 0 : -ENOMEM;
        /* Empty elements mean the process's cwd to ld.so; that cannot be replayed, so they
         * go. */
        if (r >= 0)
                r = split_list(ld_library_path, ":;", &l->ld_library_path);
        if (r >= 0)
                r = conf_read(l, "/etc/ld.so.conf", 0);
        if (r < 0) {
                wh_ldso_free(l);
                return wh_fail(err, -r, "library search: ld.so.conf");
        }
        *ret = l;
        return 0;
}

struct wh_ldso *wh_ldso_free(struct wh_ldso *l)
{
        if (!l)
                return NULL;
        wh_strv_free(l->ld_library_path);
        wh_strv_free(l->conf_dirs);
        free(l);
        return NULL;
}

char **wh_ldso_conf_dirs(const struct wh_ldso *l)
{
        return l->conf_dirs;
}

/* ---- ABI facts ---- */

const char *wh_ldso_triplet(const struct wh_elf_info *abi)
{
        int is64 = abi->elf_class == ELFCLASS64, msb = abi->data == ELFDATA2MSB;
        switch (abi->machine) {
        case EM_X86_64:
                return is64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
        case EM_386:
                return "i386-linux-gnu";
        case EM_AARCH64:
                return msb ? "aarch64_be-linux-gnu" : "aarch64-linux-gnu";
        case EM_ARM:
                return "arm-linux-gnueabihf";
        case EM_PPC64:
                return msb ? "powerpc64-linux-gnu" : "powerpc64le-linux-gnu";
        case EM_PPC:
                return "powerpc-linux-gnu";
        case EM_S390:
                return is64 ? "s390x-linux-gnu" : "s390-linux-gnu";
        case EM_RISCV:
                return is64 ? "riscv64-linux-gnu" : NULL;
        case EM_MIPS:
                return is64 ? (msb ? "mips64-linux-gnuabi64" : "mips64el-linux-gnuabi64")
                            : (msb ? "mips-linux-gnu" : "mipsel-linux-gnu");
        case EM_LOONGARCH:
                return "loongarch64-linux-gnu";
        default:
                return NULL;
        }
}

/* What $LIB expands to. */
static const char *dst_lib(const struct wh_elf_info *abi)
{
        if (abi && abi->machine == EM_X86_64 && abi->elf_class == ELFCLASS64)
                return "lib64";
        return "lib";
}

/* What $PLATFORM expands to (AT_PLATFORM of the kernel). */
static const char *dst_platform(const struct wh_elf_info *abi)
{
        if (!abi)
                return "x86_64";
        switch (abi->machine) {
        case EM_X86_64:
                return abi->elf_class == ELFCLASS64 ? "x86_64" : "i686";
        case EM_386:
                return "i686";
        case EM_AARCH64:
                return "aarch64";
        case EM_PPC64:
                return abi->data == ELFDATA2MSB ? "power8" : "power8le";
        case EM_S390:
                return "z13";
        default:
                return "unknown";
        }
}

/*
 * Default directories: what glibc's ld.so and Debian's multiarch layout
 * search after the cache. Without an ABI (no program seen yet) every
 * layout we know is tried.
 */
static int default_dirs(const struct wh_elf_info *abi, char ***ret)
{
        char **v = calloc(1, sizeof(char *));
        int r = v ? 0 : -ENOMEM;
        const char *t = abi ? wh_ldso_triplet(abi) : NULL;
        const char *list[16];
        size_t k = 0;
        char buf[2][64];

        if (!abi || abi->elf_class == ELFCLASS64) {
                list[k++] = "lib64";
                list[k++] = "usr/lib64";
        }
        if (abi && abi->machine == EM_X86_64 && abi->elf_class == ELFCLASS32) {
                list[k++] = "libx32";
                list[k++] = "usr/libx32";
        }
        if (t) {
                snprintf(buf[0], sizeof(buf[0]), "lib/%s", t);
                snprintf(buf[1], sizeof(buf[1]), "usr/lib/%s", t);
                list[k++] = buf[0];
                list[k++] = buf[1];
        } else if (!abi) {
                list[k++] = "lib/x86_64-linux-gnu";
                list[k++] = "usr/lib/x86_64-linux-gnu";
                list[k++] = "lib/aarch64-linux-gnu";
                list[k++] = "usr/lib/aarch64-linux-gnu";
        }
        list[k++] = "lib";
        list[k++] = "usr/lib";
        for (size_t i = 0; r >= 0 && i < k; i++)
                r = wh_strv_push_dup(&v, list[i]);
        if (r < 0) {
                wh_strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

/* ---- dynamic string tokens ---- */

/* Length of the token name at s (after '$'), with braces; 0 if not one of ours. */
static size_t dst_token(const char *s, const char *name)
{
        size_t n = strlen(name);
        if (s[0] == '{')
                return strncmp(s + 1, name, n) == 0 && s[n + 1] == '}' ? n + 2 : 0;
        if (strncmp(s, name, n) != 0)
                return 0;
        char c = s[n];
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                               c == '_'
                       ? 0
                       : n;
}

/*
 * Expands $ORIGIN, $LIB and $PLATFORM. origin is the object's directory
 * (cleaned, may be ""). NULL in *ret for an element that cannot be
 * expanded (an unknown token, as ld.so drops those).
 */
static int expand_dst(const char *in, const char *origin, const struct wh_elf_info *abi,
                      char **ret)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        int bad = 0;
        if (!f)
                return -ENOMEM;
        for (const char *p = in; *p;) {
                size_t t;
                if (*p != '$') {
                        fputc(*p++, f);
                } else if ((t = dst_token(p + 1, "ORIGIN"))) {
                        fprintf(f, "/%s", origin);
                        p += 1 + t;
                } else if ((t = dst_token(p + 1, "LIB"))) {
                        fputs(dst_lib(abi), f);
                        p += 1 + t;
                } else if ((t = dst_token(p + 1, "PLATFORM"))) {
                        fputs(dst_platform(abi), f);
                        p += 1 + t;
                } else {
                        bad = 1;
                        break;
                }
        }
        if (fclose(f) != 0) {
                free(out);
                return -ENOMEM;
        }
        if (bad) {
                free(out);
                out = NULL;
        }
        *ret = out;
        return 0;
}

/* ---- the search ---- */

/* The directory part of a cleaned path ("" for a top-level name); caller owns. */
static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        return strndup(path, slash ? (size_t)(slash - path) : 0);
}

/* 1 if path (as the loader would open it) is a suitable library. */
static int usable(const struct wh_ldso *l, const char *path, const struct wh_elf_info *abi)
{
        struct wh_entry *e = NULL;
        if (wh_index_resolve(l->idx, path, 1, NULL, NULL, &e, NULL) < 0 || !e)
                return 0;
        if (e->type == WH_F_HARDLINK && e->link)
                e = wh_index_get(l->idx, e->link);
        if (!e || e->type != WH_F_REG || !e->elf)
                return 0;
        return !abi || wh_elf_compatible(abi, e->elf);
}

static const char *const hwcaps_x86_64[] = {"x86-64-v4", "x86-64-v3", "x86-64-v2", NULL};
static const char *const no_hwcaps[] = {NULL};

struct found {
        char *path;
        char **variants;
        size_t n_variants;
};

/* Tries dir (cleaned, may start with '/') for the query. 1 found, 0 not. */
static int try_dir(const struct wh_ldso *l, const char *dir, const struct wh_ldso_query *q,
                   struct found *f)
{
        const struct wh_elf_info *abi = q->abi;
        const char *const *hw =
                abi && abi->machine == EM_X86_64 && abi->elf_class == ELFCLASS64
                        ? hwcaps_x86_64
                        : no_hwcaps;
        const char *sep = dir[0] == '/' ? "" : "/";
        _cleanup_free_ char *plain = NULL;

        for (; *hw; hw++) {
                char *v = NULL;
                if (asprintf(&v, "%s%s/glibc-hwcaps/%s/%s", sep, dir, *hw, q->name) < 0)
                        return -ENOMEM;
                if (!usable(l, v, abi)) {
                        free(v);
                        continue;
                }
                if (wh_strv_push(&f->variants, v) < 0)
                        return -ENOMEM;
                f->n_variants++;
        }
        if (asprintf(&plain, "%s%s/%s", sep, dir, q->name) < 0)
                return -ENOMEM;
        if (usable(l, plain, abi)) {
                f->path = TAKE_PTR(plain);
                return 1;
        }
        if (f->n_variants) {
                /* Only a hwcaps build exists: it is what a capable CPU loads. */
                f->path = f->variants[0];
                memmove(f->variants, f->variants + 1, f->n_variants * sizeof(char *));
                f->n_variants--;
                return 1;
        }
        return 0;
}

/* Tries each element of a search list (DT_RPATH-style, ':'-separated). */
static int try_list(const struct wh_ldso *l, char **dirs, const struct wh_entry *owner,
                    const struct wh_ldso_query *q, struct found *f)
{
        _cleanup_free_ char *origin = owner ? dir_of(owner->path) : NULL;
        if (owner && !origin)
                return -ENOMEM;
        for (char **d = dirs; d && *d; d++) {
                _cleanup_free_ char *dir = NULL;
                if (expand_dst(*d, origin ? origin : "", q->abi, &dir) < 0)
                        return -ENOMEM;
                /* $ORIGIN of an object we cannot place expands to nothing usable. */
                if (!dir || (!owner && strstr(*d, "ORIGIN")))
                        continue;
                int r = try_dir(l, dir, q, f);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int try_path_string(const struct wh_ldso *l, const char *list,
                           const struct wh_entry *owner, const struct wh_ldso_query *q,
                           struct found *f)
{
        _cleanup_strv_ char **dirs = NULL;
        if (!list)
                return 0;
        if (split_list(list, ":", &dirs) < 0)
                return -ENOMEM;
        return try_list(l, dirs, owner, q, f);
}

static int search(const struct wh_ldso *l, const struct wh_ldso_query *q, struct found *f)
{
        const struct wh_elf_info *oi = q->obj ? q->obj->elf : NULL;
        const struct wh_elf_info *xi = q->exe ? q->exe->elf : NULL;
        _cleanup_strv_ char **defaults = NULL;
        int r = 0;

        if (!oi || !oi->runpath) {
                if (oi)
                        r = try_path_string(l, oi->rpath, q->obj, q, f);
                if (r == 0 && xi && q->exe != q->obj && !xi->runpath)
                        r = try_path_string(l, xi->rpath, q->exe, q, f);
        }
        if (r == 0)
                r = try_list(l, l->ld_library_path, NULL, q, f);
        if (r == 0 && oi)
                r = try_path_string(l, oi->runpath, q->obj, q, f);
        if (r == 0)
                r = try_list(l, l->conf_dirs, NULL, q, f);
        if (r == 0) {
                if (default_dirs(q->abi, &defaults) < 0)
                        return -ENOMEM;
                r = try_list(l, defaults, NULL, q, f);
        }
        return r;
}

int wh_ldso_find(const struct wh_ldso *l, const struct wh_ldso_query *q, char **ret_path,
                 char ***ret_variants)
{
        struct found f = {0};
        int r;

        if (strchr(q->name, '/')) {
                /* A name with a slash is opened as is, without any search. */
                if (asprintf(&f.path, "%s%s", q->name[0] == '/' ? "" : "/", q->name) < 0)
                        return -ENOMEM;
                r = usable(l, f.path, q->abi);
        } else {
                r = search(l, q, &f);
        }
        if (r > 0 && !f.variants) {
                f.variants = calloc(1, sizeof(char *));
                if (!f.variants)
                        r = -ENOMEM;
        }
        if (r <= 0) {
                free(f.path);
                wh_strv_free(f.variants);
                return r;
        }
        *ret_path = f.path;
        *ret_variants = f.variants;
        return 1;
}
