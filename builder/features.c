/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Features: named bundles of files a workload needs beyond its ELF and
 * script closure ("nss", "tzdata:Europe/Paris"). Only what the image has
 * is kept: a feature never fails because a distribution lays its files
 * out differently, it keeps what is there from every layout we know
 * (Debian, Fedora/Amazon Linux).
 */
#include "features.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "path_safe.h"
#include "profile.h"
#include "strv.h"

const char *const wh_feature_names[] = {
        "nss", "ca-certificates", "tzdata",     "locale", "gconv", "users",
        "tmp", "shell",           "os-release", NULL,
};

static int keep_all(struct wh_closure *c, const char *const *paths, const char *why,
                    int (*keep)(struct wh_closure *, const char *, const char *))
{
        for (const char *const *p = paths; *p; p++) {
                int r = keep(c, *p, why);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- nss ---- */

static int valid_service(const char *s, size_t len)
{
        if (len == 0 || len > 64)
                return 0;
        for (size_t i = 0; i < len; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "_-",
                            s[i]))
                        return 0;
        return 1;
}

static int add_service(char ***v, const char *s, size_t len)
{
        for (char **p = *v; p && *p; p++)
                if (strlen(*p) == len && strncmp(*p, s, len) == 0)
                        return 0;
        return wh_strv_push_n(v, s, len);
}

/* Services named in one "database: service [ACTION] service" line. */
static int nss_line(const char *line, size_t len, char ***v)
{
        const char *end = line + len;
        const char *hash = memchr(line, '#', len);
        const char *colon = memchr(line, ':', len);
        if (hash)
                end = hash;
        if (!colon || colon >= end)
                return 0;
        for (const char *p = colon + 1; p < end;) {
                if (*p == ' ' || *p == '\t' || *p == '\r') {
                        p++;
                        continue;
                }
                if (*p == '[') {
                        const char *close = memchr(p, ']', (size_t)(end - p));
                        p = close ? close + 1 : end;
                        continue;
                }
                const char *w = p;
                while (p < end && !strchr(" \t\r[", *p))
                        p++;
                if (valid_service(w, (size_t)(p - w)) &&
                    add_service(v, w, (size_t)(p - w)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int nss_services(struct wh_closure *c, char ***ret)
{
        struct wh_entry *e = wh_closure_lookup(c, "/etc/nsswitch.conf");
        char **v = calloc(1, sizeof(char *));
        int r = v ? 0 : -ENOMEM;
        if (r >= 0 && e && e->content) {
                const char *s = e->content, *end = e->content + e->content_len;
                while (r >= 0 && s < end) {
                        const char *nl = memchr(s, '\n', (size_t)(end - s));
                        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
                        r = nss_line(s, len, &v);
                        s += len + 1;
                }
        } else if (r >= 0) {
                /* glibc's built-in default when nsswitch.conf is missing */
                r = add_service(&v, "files", 5);
                if (r >= 0)
                        r = add_service(&v, "dns", 3);
        }
        if (r < 0) {
                wh_strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

static int feature_nss(struct wh_closure *c, const char *arg, const char *why,
                       struct wh_err *err)
{
        static const char *const files[] = {
                "/etc/nsswitch.conf", "/etc/passwd",
                "/etc/group",         "/etc/hosts",
                "/etc/host.conf",     "/etc/resolv.conf",
                "/etc/services",      "/etc/protocols",
                "/etc/gai.conf",      NULL,
        };
        _cleanup_strv_ char **services = NULL;
        int r = keep_all(c, files, why, wh_closure_keep_exact);
        (void)arg;
        (void)err;
        if (r < 0 || (r = nss_services(c, &services)) < 0)
                return r;
        for (char **s = services; *s; s++) {
                _cleanup_free_ char *lib = NULL;
                if (asprintf(&lib, "libnss_%s.so.2", *s) < 0)
                        return -ENOMEM;
                r = wh_closure_keep_library(c, lib, why);
                if (r < 0)
                        return r;
                /* files and dns live inside libc since glibc 2.34 */
                if (r == 0 && strcmp(*s, "files") != 0 && strcmp(*s, "dns") != 0)
                        wh_info("feature nss: %s (from nsswitch.conf) not in the image",
                                lib);
        }
        return 0;
}

/* ---- ca-certificates ---- */

static int feature_ca(struct wh_closure *c, const char *arg, const char *why,
                      struct wh_err *err)
{
        static const char *const files[] = {
                "/etc/ssl/cert.pem",        "/etc/ssl/openssl.cnf",
                "/etc/pki/tls/cert.pem",    "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/pki/tls/openssl.cnf", NULL,
        };
        /* Debian's /usr/lib/ssl (OPENSSLDIR) without misc/, whose scripts would pull in
         * perl. */
        static const char *const trees[] = {
                "/etc/ssl/certs",
                "/usr/lib/ssl/certs",
                "/usr/lib/ssl/private",
                "/usr/lib/ssl/cert.pem",
                "/usr/lib/ssl/openssl.cnf",
                "/usr/lib/ssl/ct_log_list.cnf",
                "/etc/pki/tls",
                "/etc/pki/ca-trust/extracted",
                "/etc/pki/ca-trust/source",
                "/etc/crypto-policies/back-ends",
                "/usr/share/pki/ca-trust-source",
                NULL,
        };
        int r = keep_all(c, files, why, wh_closure_keep_exact);
        (void)arg;
        (void)err;
        return r < 0 ? r : keep_all(c, trees, why, wh_closure_keep_tree);
}

/* ---- tzdata ---- */

static int feature_tzdata(struct wh_closure *c, const char *arg, const char *why,
                          struct wh_err *err)
{
        static const char *const files[] = {"/etc/localtime", "/etc/timezone", NULL};
        static const char *const tables[] = {
                "/usr/share/zoneinfo/zone1970.tab",
                "/usr/share/zoneinfo/zone.tab",
                "/usr/share/zoneinfo/tzdata.zi",
                NULL,
        };
        _cleanup_free_ char *zone = NULL, *path = NULL;
        int r = keep_all(c, files, why, wh_closure_keep_exact);
        if (r < 0)
                return r;
        if (!arg)
                return wh_closure_keep_tree(c, "/usr/share/zoneinfo", why) < 0 ? -ENOMEM
                                                                               : 0;
        if (wh_path_clean(arg, 0, &zone) < 0 || !zone[0])
                return wh_failx(err, EINVAL, "feature tzdata: bad zone name '%s'", arg);
        if (asprintf(&path, "/usr/share/zoneinfo/%s", zone) < 0)
                return -ENOMEM;
        r = wh_closure_keep_exact(c, path, why);
        if (r == 0)
                wh_warn("feature tzdata: zone %s not in the image", zone);
        return r < 0 ? r : keep_all(c, tables, why, wh_closure_keep_exact);
}

/* ---- locale ---- */

/*
 * glibc's spelling of a locale directory: the codeset lower-cased with
 * everything but letters and digits removed ("en_US.UTF-8" ->
 * "en_US.utf8"). Caller owns.
 */
static char *locale_normalise(const char *name)
{
        const char *dot = strchr(name, '.');
        if (!dot)
                return strdup(name);
        const char *at = strchr(dot, '@');
        size_t clen = at ? (size_t)(at - dot - 1) : strlen(dot + 1);
        char *out = malloc(strlen(name) + 1);
        if (!out)
                return NULL;
        size_t k = (size_t)(dot - name) + 1;
        memcpy(out, name, k);
        for (size_t i = 0; i < clen; i++) {
                char ch = dot[1 + i];
                if (ch >= 'A' && ch <= 'Z')
                        out[k++] = (char)(ch - 'A' + 'a');
                else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
                        out[k++] = ch;
        }
        out[k] = '\0';
        if (at) {
                size_t l = strlen(out);
                memcpy(out + l, at, strlen(at) + 1);
        }
        return out;
}

static int valid_locale(const char *s)
{
        if (!s[0] || strlen(s) > 128 || strstr(s, ".."))
                return 0;
        for (const char *p = s; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "_.-@",
                            *p))
                        return 0;
        return 1;
}

/* The locale's own directories: 1 if any of NAME and its normalised spelling exists. */
static int keep_locale_dirs(struct wh_closure *c, const char *name, const char *norm,
                            const char *why)
{
        const char *names[] = {name, norm};
        int found = 0;
        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "/usr/lib/locale/%s", names[i]) < 0)
                        return -ENOMEM;
                int r = wh_closure_keep_tree(c, p, why);
                if (r < 0)
                        return r;
                found |= r;
        }
        return found;
}

/* Message catalogs, as gettext looks them up: full name, then shorter. */
static int keep_catalogs(struct wh_closure *c, const char *name, const char *norm,
                         const char *why)
{
        _cleanup_free_ char *terr = strndup(name, strcspn(name, ".@"));
        _cleanup_free_ char *lang = strndup(name, strcspn(name, "_.@"));
        const char *names[] = {name, norm, terr, lang};
        if (!terr || !lang)
                return -ENOMEM;
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "/usr/share/locale/%s", names[i]) < 0)
                        return -ENOMEM;
                if (wh_closure_keep_tree(c, p, why) < 0)
                        return -ENOMEM;
        }
        return wh_closure_keep_exact(c, "/usr/share/locale/locale.alias", why) < 0 ? -ENOMEM
                                                                                   : 0;
}

/*
 * Setting a locale makes glibc read the gconv module configuration (not the
 * modules): small files whose absence a tracer sees as failed lookups.
 */
static int keep_gconv_config(struct wh_closure *c, const char *why)
{
        static const char *const globs[] = {
                "usr/lib/*/gconv/gconv-modules",   "usr/lib/*/gconv/gconv-modules.cache",
                "usr/lib/*/gconv/gconv-modules.d/**", "usr/lib64/gconv/gconv-modules*",
                "usr/lib/gconv/gconv-modules*",
        };
        for (size_t i = 0; i < ARRAY_SIZE(globs); i++)
                if (wh_closure_keep_glob(c, globs[i], why) < 0)
                        return -ENOMEM;
        return 0;
}

static int feature_locale(struct wh_closure *c, const char *arg, const char *why,
                          struct wh_err *err)
{
        const char *name = arg ? arg : "C.UTF-8";
        if (!valid_locale(name))
                return wh_failx(err, EINVAL, "feature locale: bad locale name '%s'", name);
        _cleanup_free_ char *norm = locale_normalise(name);
        if (!norm)
                return -ENOMEM;
        if (keep_gconv_config(c, why) < 0)
                return -ENOMEM;
        int r = keep_locale_dirs(c, name, norm, why);
        if (r < 0 || !arg)
                return r < 0 ? r : 0;
        /* Locales not compiled into a directory live in the archive (which can be huge). */
        if (r == 0) {
                r = wh_closure_keep_exact(c, "/usr/lib/locale/locale-archive", why);
                if (r == 0)
                        wh_warn("feature locale: %s not in the image", name);
                if (r < 0)
                        return r;
        }
        return keep_catalogs(c, name, norm, why);
}

/* ---- the small ones ---- */

static int feature_gconv(struct wh_closure *c, const char *arg, const char *why,
                         struct wh_err *err)
{
        static const char *const trees[] = {"/usr/lib64/gconv", "/usr/lib/gconv", NULL};
        int r = keep_all(c, trees, why, wh_closure_keep_tree);
        (void)arg;
        (void)err;
        /* Debian: /usr/lib/<triplet>/gconv for every architecture present */
        return r < 0 ? r
                     : (wh_closure_keep_glob(c, "usr/lib/*/gconv/**", why) < 0 ? -ENOMEM
                                                                               : 0);
}

/* 1 if a "name:..." line exists in the file's captured content (or it was not captured). */
static int has_name(struct wh_closure *c, const char *file, const char *name)
{
        struct wh_entry *e = wh_closure_lookup(c, file);
        size_t n = strlen(name);
        if (!e)
                return 0;
        if (!e->content)
                return 1;
        for (const char *s = e->content; s && *s;) {
                if (strncmp(s, name, n) == 0 && s[n] == ':')
                        return 1;
                s = strchr(s, '\n');
                s = s ? s + 1 : NULL;
        }
        return 0;
}

static int is_number(const char *s)
{
        return s[0] && s[strspn(s, "0123456789")] == '\0';
}

static int feature_users(struct wh_closure *c, const char *arg, const char *why,
                         struct wh_err *err)
{
        static const char *const files[] = {"/etc/passwd", "/etc/group", NULL};
        const struct wh_closure_input *in = wh_closure_input(c);
        const char *user = in->user ? in->user : (in->profile ? in->profile->user : NULL);
        int r = keep_all(c, files, why, wh_closure_keep_exact);
        (void)arg;
        (void)err;
        if (r < 0 || !user)
                return r;
        _cleanup_free_ char *name = strndup(user, strcspn(user, ":"));
        if (!name)
                return -ENOMEM;
        const char *group = user[strlen(name)] == ':' ? user + strlen(name) + 1 : NULL;
        if (name[0] && !is_number(name) && !has_name(c, "/etc/passwd", name))
                wh_warn("user %s: no entry in the image's /etc/passwd", name);
        if (group && group[0] && !is_number(group) && !has_name(c, "/etc/group", group))
                wh_warn("group %s: no entry in the image's /etc/group", group);
        return 0;
}

static int feature_tmp(struct wh_closure *c, const char *arg, const char *why,
                       struct wh_err *err)
{
        (void)arg;
        int r = wh_closure_keep_dir_mode(c, "/tmp", 01777, why, err);
        return r < 0 ? r : wh_closure_keep_dir_mode(c, "/var/tmp", 01777, why, err);
}

static int feature_shell(struct wh_closure *c, const char *arg, const char *why,
                         struct wh_err *err)
{
        (void)arg;
        (void)err;
        int r = wh_closure_keep_exact(c, "/bin/sh", why);
        if (r == 0)
                wh_warn("feature shell: /bin/sh not in the image");
        return r < 0 ? r : 0;
}

static int feature_os_release(struct wh_closure *c, const char *arg, const char *why,
                              struct wh_err *err)
{
        static const char *const files[] = {"/etc/os-release", "/usr/lib/os-release", NULL};
        (void)arg;
        (void)err;
        return keep_all(c, files, why, wh_closure_keep_exact);
}

static const struct {
        const char *name;
        int takes_arg;
        int (*run)(struct wh_closure *c, const char *arg, const char *why,
                   struct wh_err *err);
} features[] = {
        {"nss", 0, feature_nss},
        {"ca-certificates", 0, feature_ca},
        {"tzdata", 1, feature_tzdata},
        {"locale", 1, feature_locale},
        {"gconv", 0, feature_gconv},
        {"users", 0, feature_users},
        {"tmp", 0, feature_tmp},
        {"shell", 0, feature_shell},
        {"os-release", 0, feature_os_release},
};

int wh_feature_run(struct wh_closure *c, const char *spec, struct wh_err *err)
{
        size_t nlen = strcspn(spec, ":");
        const char *arg = spec[nlen] == ':' ? spec + nlen + 1 : NULL;
        _cleanup_free_ char *why = NULL;
        if (asprintf(&why, "feature %s", spec) < 0)
                return wh_fail(err, ENOMEM, "feature %s", spec);
        for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
                if (strlen(features[i].name) != nlen ||
                    strncmp(features[i].name, spec, nlen) != 0)
                        continue;
                if (arg && !features[i].takes_arg) {
                        wh_warn("feature %s takes no argument; '%s' ignored",
                                features[i].name, arg);
                        arg = NULL;
                }
                int r = features[i].run(c, arg && arg[0] ? arg : NULL, why, err);
                if (r < 0 && !(err && err->msg[0]))
                        return wh_fail(err, -r, "feature %s", spec);
                return r < 0 ? r : 0;
        }
        return wh_failx(err, EINVAL, "unknown feature '%s'", spec);
}
