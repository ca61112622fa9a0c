/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the closure on hand-built indexes: an Amazon Linux
 * 2023-like tree (usrmerge, /lib64 -> usr/lib64, ld.so.conf.d, /etc/pki)
 * and a Debian-like one (multiarch, absolute loader symlink). Each test
 * asserts the exact kept set, the reasons, and the warnings.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../builder/closure.h"
#include "../../builder/elf.h"
#include "../../builder/index.h"
#include "../../builder/profile.h"
#include "cleanup.h"
#include "tap.h"

/* ---- building an index by hand ---- */

static struct wh_entry *put(struct wh_index *idx, const char *path, enum wh_ftype type)
{
        struct wh_entry *e = wh_entry_new(path, type);
        struct wh_err err;
        if (!e)
                abort();
        e->mode = type == WH_F_DIR ? 0755 : 0644;
        if (wh_index_put(idx, e, &err) < 0) {
                fprintf(stderr, "put %s: %s\n", path, err.msg);
                abort();
        }
        return wh_index_get(idx, path);
}

static void file(struct wh_index *idx, const char *path)
{
        put(idx, path, WH_F_REG)->size = 10;
}

static void conf(struct wh_index *idx, const char *path, const char *content)
{
        struct wh_entry *e = put(idx, path, WH_F_REG);
        e->size = strlen(content);
        e->content = strdup(content);
        e->content_len = strlen(content);
}

static void symlink_(struct wh_index *idx, const char *path, const char *target)
{
        put(idx, path, WH_F_SYMLINK)->link = strdup(target);
}

static void hardlink(struct wh_index *idx, const char *path, const char *target)
{
        put(idx, path, WH_F_HARDLINK)->link = strdup(target);
}

static void script(struct wh_index *idx, const char *path, const char *shebang)
{
        struct wh_entry *e = put(idx, path, WH_F_REG);
        e->size = 10;
        e->mode = 0755;
        e->shebang = strdup(shebang);
}

static char **strv(const char *const *v)
{
        size_t n = 0;
        while (v[n])
                n++;
        char **out = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                out[i] = strdup(v[i]);
        return out;
}

/* An ELF of class/machine with the given facts; needed is NULL-terminated. */
static void elf(struct wh_index *idx, const char *path, int is64, uint16_t machine,
                const char *interp, const char *rpath, const char *runpath,
                const char *const *needed)
{
        struct wh_entry *e = put(idx, path, WH_F_REG);
        struct wh_elf_info *i = calloc(1, sizeof(*i));
        i->elf_class = is64 ? ELFCLASS64 : ELFCLASS32;
        i->data = ELFDATA2LSB;
        i->machine = machine;
        i->type = ET_DYN;
        i->interp = interp ? strdup(interp) : NULL;
        i->rpath = rpath ? strdup(rpath) : NULL;
        i->runpath = runpath ? strdup(runpath) : NULL;
        i->needed = strv(needed);
        e->elf = i;
        e->size = 10;
        e->mode = 0755;
}

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE      ((const char *const[]){NULL})
#define LD64      "/lib64/ld-linux-x86-64.so.2"
#define PROG(idx, path, ...)                                                               \
        elf(idx, path, 1, EM_X86_64, LD64, NULL, NULL, LIST(__VA_ARGS__))
#define LIB(idx, path, ...)                                                                \
        elf(idx, path, 1, EM_X86_64, NULL, NULL, NULL, LIST(__VA_ARGS__))

/* ---- capturing warnings ---- */

static int saved_stderr = -1, capture_fd = -1;

static void capture_start(void)
{
        fflush(stderr);
        saved_stderr = dup(2);
        capture_fd = memfd_create("warnings", MFD_CLOEXEC);
        dup2(capture_fd, 2);
}

static char *capture_end(void)
{
        fflush(stderr);
        dup2(saved_stderr, 2);
        close(saved_stderr);
        off_t len = lseek(capture_fd, 0, SEEK_END);
        char *buf = calloc(1, (size_t)len + 1);
        if (pread(capture_fd, buf, (size_t)len, 0) < 0)
                buf[0] = '\0';
        close(capture_fd);
        return buf;
}

/* ---- checking ---- */

/* The kept paths, one per line, in path order. Caller owns. */
static char *kept_set(struct wh_index *idx)
{
        size_t n, len = 0;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        char *out = NULL;
        FILE *f = open_memstream(&out, &len);
        for (size_t i = 0; i < n; i++)
                if (v[i]->keep_reason)
                        fprintf(f, "%s\n", v[i]->path);
        fclose(f);
        return out;
}

/* Prints the first line where the sets differ, to make failures readable. */
static void is_set(const char *got, const char *want, const char *what)
{
        if (ok(strcmp(got, want) == 0, "%s: kept set", what))
                return;
        const char *g = got, *w = want;
        while (*g && *w) {
                const char *ge = strchrnul(g, '\n'), *we = strchrnul(w, '\n');
                if (ge - g != we - w || strncmp(g, w, (size_t)(ge - g)) != 0)
                        break;
                g = *ge ? ge + 1 : ge;
                w = *we ? we + 1 : we;
        }
        printf("#   first difference: got '%.*s', want '%.*s'\n", (int)strcspn(g, "\n"), g,
               (int)strcspn(w, "\n"), w);
        printf("# got:\n%s", got);
}

static void is_reason(struct wh_index *idx, const char *path, const char *want)
{
        struct wh_entry *e = wh_index_get(idx, path);
        is_str(e ? e->keep_reason : "(absent)", want, "reason of /%s", path);
}

static void has_warning(const char *warnings, const char *needle, int want)
{
        ok((strstr(warnings, needle) != NULL) == want, "warning '%s' %s", needle,
           want ? "given" : "not given");
}

/* Counts non-directories in a newline-separated list, as the stats do. */
static void check_stats(struct wh_index *idx, const struct wh_closure_stats *st,
                        const char *set, const char *what)
{
        uint64_t kept = 0, bytes = 0, total = 0;
        for (const char *p = set; *p;) {
                size_t l = strcspn(p, "\n");
                _cleanup_free_ char *path = strndup(p, l);
                struct wh_entry *e = wh_index_get(idx, path);
                if (e && e->type != WH_F_DIR) {
                        kept++;
                        bytes += e->type == WH_F_REG ? e->size : 0;
                }
                p += l + (p[l] == '\n');
        }
        size_t n;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        for (size_t i = 0; i < n; i++)
                total += v[i]->type != WH_F_DIR;
        is_int(st->kept_files, kept, "%s: kept files", what);
        is_int(st->kept_bytes, bytes, "%s: kept bytes", what);
        is_int(st->kept_files + st->dropped_files, total, "%s: kept + dropped = all files",
               what);
        ok(st->dropped_bytes > 0, "%s: some bytes dropped", what);
}

/* ---- Amazon Linux 2023-like ---- */

static void al2023_tree(struct wh_index *idx)
{
        symlink_(idx, "bin", "usr/bin");
        symlink_(idx, "sbin", "usr/sbin");
        symlink_(idx, "lib", "usr/lib");
        symlink_(idx, "lib64", "usr/lib64");

        LIB(idx, "usr/lib64/ld-linux-x86-64.so.2", NULL);
        LIB(idx, "usr/lib64/libc.so.6", "ld-linux-x86-64.so.2");
        LIB(idx, "usr/lib64/libm.so.6", "libc.so.6");
        LIB(idx, "usr/lib64/glibc-hwcaps/x86-64-v3/libm.so.6", "libc.so.6");
        LIB(idx, "usr/lib64/libpython3.11.so.1.0", "libm.so.6", "libz.so.1", "libc.so.6");
        symlink_(idx, "usr/lib64/libz.so.1", "libz.so.1.2.13");
        LIB(idx, "usr/lib64/libz.so.1.2.13", "libc.so.6");
        LIB(idx, "usr/lib64/libfoo.so.1", "libc.so.6");
        elf(idx, "opt/lib32/libfoo.so.1", 0, EM_386, NULL, NULL, NULL, NONE);
        LIB(idx, "usr/lib64/libperl.so.5.36", "libc.so.6");
        LIB(idx, "usr/lib64/mysql/libmysqlclient.so.21", "libc.so.6", "libz.so.1");
        LIB(idx, "usr/lib64/libnss_sss.so.2", "libc.so.6");
        LIB(idx, "usr/lib64/libnss_myhostname.so.2", "libc.so.6", "libcap.so.2");
        LIB(idx, "usr/lib64/libunused.so.1", "libc.so.6");

        PROG(idx, "usr/bin/python3.11", "libpython3.11.so.1.0", "libc.so.6");
        symlink_(idx, "usr/bin/python3", "python3.11");
        PROG(idx, "usr/bin/env", "libc.so.6");
        PROG(idx, "usr/bin/app-mysql", "libmysqlclient.so.21", "libc.so.6");
        PROG(idx, "usr/bin/perl5.36", "libperl.so.5.36", "libc.so.6", "libfoo.so.1");
        hardlink(idx, "usr/bin/perl", "usr/bin/perl5.36");
        symlink_(idx, "usr/bin/loop1", "loop2");
        symlink_(idx, "usr/bin/loop2", "loop1");
        PROG(idx, "usr/bin/unused", "libunused.so.1");

        elf(idx, "opt/tool/bin/tool", 1, EM_X86_64, LD64, "$ORIGIN/../lib", NULL,
            LIST("libtool.so.1"));
        LIB(idx, "opt/tool/lib/libtool.so.1", "libdep.so.1");
        LIB(idx, "opt/tool/lib/libdep.so.1", "libc.so.6");
        elf(idx, "opt/rp/bin/rp", 1, EM_X86_64, LD64, NULL, "/opt/rp/lib",
            LIST("librp.so.1"));
        LIB(idx, "opt/rp/lib/librp.so.1", "libsub.so.1");
        LIB(idx, "opt/rp/lib/libsub.so.1", "libc.so.6");

        conf(idx, "etc/ld.so.conf", "include ld.so.conf.d/*.conf\n");
        conf(idx, "etc/ld.so.conf.d/mysql-x86_64.conf", "# mysql\n/usr/lib64/mysql\n");
        conf(idx, "etc/ld.so.conf.d/other.txt", "/opt/rp/lib\n");
        file(idx, "etc/ld.so.cache");
        conf(idx, "etc/nsswitch.conf",
             "# comment: files\npasswd: files sss\nhosts: files [NOTFOUND=return] "
             "myhostname dns\n");
        conf(idx, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        conf(idx, "etc/group", "root:x:0:\n");
        file(idx, "etc/hosts");
        symlink_(idx, "etc/pki/tls/certs/ca-bundle.crt",
                 "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem");
        file(idx, "etc/pki/tls/openssl.cnf");
        file(idx, "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem");
        symlink_(idx, "etc/ssl/certs", "/etc/pki/tls/certs");
        symlink_(idx, "etc/os-release", "../usr/lib/os-release");
        file(idx, "usr/lib/os-release");

        file(idx, "usr/share/doc/python3/README");
        file(idx, "usr/share/doc/keepme/NOTES");
        file(idx, "usr/share/man/man1/python3.1.gz");
        file(idx, "var/log/dnf.log");
        file(idx, "var/log/other.log");
        file(idx, "var/cache/dnf/meta");

        script(idx, "app/run.sh", "/usr/bin/env python3");
        file(idx, "app/main.py");
        file(idx, "app/lib/util.py");
        file(idx, "app/tests/test_x.py");
        file(idx, "app/__pycache__/main.cpython-311.pyc");
}

static const char al2023_kept[] = "app\n"
                                  "app/lib\n"
                                  "app/lib/util.py\n"
                                  "app/main.py\n"
                                  "app/run.sh\n"
                                  "etc\n"
                                  "etc/group\n"
                                  "etc/hosts\n"
                                  "etc/ld.so.cache\n"
                                  "etc/ld.so.conf\n"
                                  "etc/ld.so.conf.d\n"
                                  "etc/ld.so.conf.d/mysql-x86_64.conf\n"
                                  "etc/ld.so.conf.d/other.txt\n"
                                  "etc/nsswitch.conf\n"
                                  "etc/os-release\n"
                                  "etc/passwd\n"
                                  "etc/pki\n"
                                  "etc/pki/ca-trust\n"
                                  "etc/pki/ca-trust/extracted\n"
                                  "etc/pki/ca-trust/extracted/pem\n"
                                  "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem\n"
                                  "etc/pki/tls\n"
                                  "etc/pki/tls/certs\n"
                                  "etc/pki/tls/certs/ca-bundle.crt\n"
                                  "etc/pki/tls/openssl.cnf\n"
                                  "etc/ssl\n"
                                  "etc/ssl/certs\n"
                                  "lib64\n"
                                  "opt\n"
                                  "opt/rp\n"
                                  "opt/rp/bin\n"
                                  "opt/rp/bin/rp\n"
                                  "opt/rp/lib\n"
                                  "opt/rp/lib/librp.so.1\n"
                                  "opt/tool\n"
                                  "opt/tool/bin\n"
                                  "opt/tool/bin/tool\n"
                                  "opt/tool/lib\n"
                                  "opt/tool/lib/libdep.so.1\n"
                                  "opt/tool/lib/libtool.so.1\n"
                                  "tmp\n"
                                  "usr\n"
                                  "usr/bin\n"
                                  "usr/bin/app-mysql\n"
                                  "usr/bin/env\n"
                                  "usr/bin/perl\n"
                                  "usr/bin/perl5.36\n"
                                  "usr/bin/python3\n"
                                  "usr/bin/python3.11\n"
                                  "usr/lib\n"
                                  "usr/lib/os-release\n"
                                  "usr/lib64\n"
                                  "usr/lib64/glibc-hwcaps\n"
                                  "usr/lib64/glibc-hwcaps/x86-64-v3\n"
                                  "usr/lib64/glibc-hwcaps/x86-64-v3/libm.so.6\n"
                                  "usr/lib64/ld-linux-x86-64.so.2\n"
                                  "usr/lib64/libc.so.6\n"
                                  "usr/lib64/libfoo.so.1\n"
                                  "usr/lib64/libm.so.6\n"
                                  "usr/lib64/libnss_myhostname.so.2\n"
                                  "usr/lib64/libnss_sss.so.2\n"
                                  "usr/lib64/libperl.so.5.36\n"
                                  "usr/lib64/libpython3.11.so.1.0\n"
                                  "usr/lib64/libz.so.1\n"
                                  "usr/lib64/libz.so.1.2.13\n"
                                  "usr/lib64/mysql\n"
                                  "usr/lib64/mysql/libmysqlclient.so.21\n"
                                  "usr/share\n"
                                  "usr/share/doc\n"
                                  "usr/share/doc/keepme\n"
                                  "usr/share/doc/keepme/NOTES\n"
                                  "var\n"
                                  "var/log\n"
                                  "var/log/dnf.log\n"
                                  "var/tmp\n";

static void test_al2023(void)
{
        struct wh_index *idx = wh_index_new();
        struct wh_profile *p = wh_profile_new();
        struct wh_closure_stats st;
        struct wh_err err;
        al2023_tree(idx);

        wh_strv_add(&p->keep, "/app/**");
        wh_strv_add(&p->keep, "/usr/bin/perl");
        wh_strv_add(&p->keep, "/usr/bin/loop1");
        wh_strv_add(&p->keep, "/usr/share/doc/keepme/**");
        wh_strv_add(&p->keep, "/usr/bin/app-mysql");
        wh_strv_add(&p->keep, "/opt/tool/bin/tool");
        wh_strv_add(&p->keep, "/opt/rp/bin/rp");
        wh_strv_add(&p->keep, "/var/log/dnf.log");
        wh_strv_add(&p->drop, "/app/tests");
        wh_strv_add(&p->drop, "**/__pycache__/**");
        wh_strv_add(&p->drop, "/usr/lib64/libz.so.1.2.13");
        wh_strv_add(&p->needs, "nss");
        wh_strv_add(&p->needs, "ca-certificates");
        wh_strv_add(&p->needs, "tmp");

        _cleanup_strv_ char **entrypoint = strv(LIST("/app/run.sh"));
        _cleanup_strv_ char **cmd = strv(LIST("/app/main.py"));
        _cleanup_strv_ char **env = strv(
                LIST("PATH=/usr/local/bin:/usr/bin:/bin", "LD_LIBRARY_PATH=/opt/lib32"));
        struct wh_closure_input in = {
                .profile = p,
                .entrypoint = entrypoint,
                .cmd = cmd,
                .env = env,
                .user = "app",
                .workdir = "/app",
        };
        capture_start();
        int r = wh_closure_run(idx, &in, &st, &err);
        _cleanup_free_ char *warnings = capture_end();
        is_int(r, 0, "al2023: closure runs");
        _cleanup_free_ char *got = kept_set(idx);
        is_set(got, al2023_kept, "al2023");

        /* roots, scripts, env */
        is_reason(idx, "app/run.sh", "entrypoint");
        is_reason(idx, "app/main.py", "cmd argument");
        is_reason(idx, "app", "parent of /app/run.sh");
        is_reason(idx, "app/lib/util.py", "keep /app/**");
        is_reason(idx, "usr/bin/env", "interpreter of /app/run.sh");
        is_reason(idx, "usr/bin/python3", "symlink on the way to /usr/bin/python3.11");
        is_reason(idx, "usr/bin/python3.11", "interpreter of /app/run.sh");
        is_reason(idx, "usr/bin", "parent of /usr/bin/env");
        /* loader, libraries, directory symlink */
        is_reason(idx, "lib64", "symlink on the way to /usr/lib64/ld-linux-x86-64.so.2");
        is_reason(idx, "usr/lib64/ld-linux-x86-64.so.2", "PT_INTERP of /usr/bin/env");
        is_reason(idx, "usr/lib64/libc.so.6", "DT_NEEDED of /usr/bin/env");
        is_reason(idx, "usr/lib64/libpython3.11.so.1.0",
                  "DT_NEEDED of /usr/bin/python3.11");
        is_reason(idx, "usr/lib64/libz.so.1",
                  "symlink on the way to /usr/lib64/libz.so.1.2.13");
        is_reason(idx, "usr/lib64/libz.so.1.2.13",
                  "DT_NEEDED of /usr/lib64/libpython3.11.so.1.0");
        is_reason(idx, "usr/lib64/glibc-hwcaps/x86-64-v3/libm.so.6",
                  "DT_NEEDED of /usr/lib64/libpython3.11.so.1.0");
        /* ld.so.conf include, $ORIGIN in the program's RPATH, RUNPATH */
        is_reason(idx, "usr/lib64/mysql/libmysqlclient.so.21",
                  "DT_NEEDED of /usr/bin/app-mysql");
        is_reason(idx, "opt/tool/lib/libtool.so.1", "DT_NEEDED of /opt/tool/bin/tool");
        is_reason(idx, "opt/tool/lib/libdep.so.1",
                  "DT_NEEDED of /opt/tool/lib/libtool.so.1");
        is_reason(idx, "opt/rp/lib/librp.so.1", "DT_NEEDED of /opt/rp/bin/rp");
        is_reason(idx, "opt/rp/lib/libsub.so.1", NULL);
        /* hardlink, 32-bit library skipped */
        is_reason(idx, "usr/bin/perl", "keep /usr/bin/perl");
        is_reason(idx, "usr/bin/perl5.36", "target of /usr/bin/perl");
        is_reason(idx, "usr/lib64/libfoo.so.1", "DT_NEEDED of /usr/bin/perl5.36");
        is_reason(idx, "opt/lib32/libfoo.so.1", NULL);
        /* features */
        is_reason(idx, "usr/lib64/libnss_sss.so.2", "feature nss");
        is_reason(idx, "usr/lib64/libnss_myhostname.so.2", "feature nss");
        is_reason(idx, "etc/ssl/certs", "symlink on the way to /etc/pki/tls/certs");
        is_reason(idx, "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
                  "feature ca-certificates");
        is_reason(
                idx, "etc/pki/tls/certs/ca-bundle.crt",
                "symlink on the way to /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem");
        is_reason(idx, "tmp", "feature tmp");
        is_reason(idx, "etc/os-release", "symlink on the way to /usr/lib/os-release");
        is_reason(idx, "usr/lib/os-release", "feature os-release");
        is_reason(idx, "etc/ld.so.cache", "configuration of the dynamic loader");
        struct wh_entry *tmp = wh_index_get(idx, "tmp"),
                        *vtmp = wh_index_get(idx, "var/tmp");
        ok(tmp && tmp->type == WH_F_DIR && tmp->mode == 01777,
           "/tmp synthesised with 1777");
        ok(vtmp && vtmp->type == WH_F_DIR && vtmp->mode == 01777,
           "/var/tmp synthesised with 1777");
        /* drop rules */
        is_reason(idx, "usr/share/doc/keepme/NOTES", "keep /usr/share/doc/keepme/**");
        is_reason(idx, "var/log/dnf.log", "keep /var/log/dnf.log");
        is_reason(idx, "app/tests/test_x.py", NULL);
        is_reason(idx, "app/__pycache__/main.cpython-311.pyc", NULL);

        has_warning(warnings, "/opt/rp/lib/librp.so.1: DT_NEEDED libsub.so.1 not found", 1);
        has_warning(warnings,
                    "/usr/lib64/libnss_myhostname.so.2: DT_NEEDED libcap.so.2 not found",
                    1);
        has_warning(warnings, "user app: no entry in the image's /etc/passwd", 1);
        has_warning(warnings, "usr/bin/loop1", 1);
        has_warning(warnings, "libnss_files", 0);
        has_warning(warnings, "libfoo", 0);
        if (tap_failed)
                diag("warnings:\n%s", warnings);
        check_stats(idx, &st, al2023_kept, "al2023");

        wh_profile_free(p);
        wh_index_free(idx);
}

/* ---- Debian-like: multiarch, not usrmerged, absolute loader link ---- */

static void debian_tree(struct wh_index *idx)
{
        symlink_(idx, "lib64/ld-linux-x86-64.so.2",
                 "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        LIB(idx, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", NULL);
        LIB(idx, "lib/x86_64-linux-gnu/libc.so.6", "ld-linux-x86-64.so.2");
        LIB(idx, "usr/lib/x86_64-linux-gnu/libssl.so.3", "libcrypto.so.3", "libc.so.6");
        LIB(idx, "usr/lib/x86_64-linux-gnu/libcrypto.so.3", "libc.so.6");
        LIB(idx, "usr/lib/x86_64-linux-gnu/libunused.so.1", "libc.so.6");
        LIB(idx, "usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", "libc.so.6");
        file(idx, "usr/lib/x86_64-linux-gnu/gconv/gconv-modules");
        PROG(idx, "bin/dash", "libc.so.6");
        symlink_(idx, "bin/sh", "dash");
        PROG(idx, "usr/bin/curlish", "libssl.so.3", "libc.so.6");
        PROG(idx, "usr/bin/python3.11", "libc.so.6");
        symlink_(idx, "usr/bin/python3", "python3.11");
        PROG(idx, "usr/bin/env", "libc.so.6");

        conf(idx, "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
        conf(idx, "etc/ld.so.conf.d/x86_64-linux-gnu.conf",
             "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n"
             "/usr/lib/x86_64-linux-gnu\n");
        file(idx, "etc/ld.so.cache");
        conf(idx, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        conf(idx, "etc/group", "root:x:0:\n");
        file(idx, "etc/ssl/openssl.cnf");
        file(idx, "etc/ssl/certs/ca-certificates.crt");
        symlink_(idx, "etc/ssl/certs/4042bcee.0", "ISRG_Root_X1.pem");
        symlink_(idx, "etc/ssl/certs/ISRG_Root_X1.pem",
                 "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt");
        file(idx, "usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt");
        file(idx, "usr/share/ca-certificates/mozilla/Other.crt");
        symlink_(idx, "usr/lib/ssl/certs", "/etc/ssl/certs");
        symlink_(idx, "usr/lib/ssl/openssl.cnf", "/etc/ssl/openssl.cnf");
        file(idx, "usr/share/zoneinfo/Europe/Paris");
        file(idx, "usr/share/zoneinfo/Europe/Berlin");
        file(idx, "usr/share/zoneinfo/Etc/UTC");
        file(idx, "usr/share/zoneinfo/zone1970.tab");
        file(idx, "usr/share/zoneinfo/tzdata.zi");
        symlink_(idx, "etc/localtime", "/usr/share/zoneinfo/Etc/UTC");
        file(idx, "usr/share/locale/fr/LC_MESSAGES/coreutils.mo");
        file(idx, "usr/share/locale/de/LC_MESSAGES/coreutils.mo");
        file(idx, "usr/share/locale/locale.alias");
        file(idx, "usr/lib/locale/C.utf8/LC_CTYPE");
        file(idx, "usr/lib/locale/fr_FR.utf8/LC_CTYPE");
        file(idx, "usr/lib/locale/locale-archive");
        file(idx, "usr/lib/os-release");
        symlink_(idx, "etc/os-release", "../usr/lib/os-release");
        file(idx, "usr/share/doc/dash/copyright");
        file(idx, "var/lib/apt/lists/deb.debian.org_dists");
        put(idx, "tmp", WH_F_DIR);
        file(idx, "tmp/leftover");

        script(idx, "app/start", "/bin/sh -e");
        script(idx, "app/tool.py", "/usr/bin/env -S python3 -u");
}

static const char debian_kept[] = "app\n"
                                  "app/start\n"
                                  "app/tool.py\n"
                                  "bin\n"
                                  "bin/dash\n"
                                  "bin/sh\n"
                                  "etc\n"
                                  "etc/group\n"
                                  "etc/ld.so.cache\n"
                                  "etc/ld.so.conf\n"
                                  "etc/ld.so.conf.d\n"
                                  "etc/ld.so.conf.d/x86_64-linux-gnu.conf\n"
                                  "etc/localtime\n"
                                  "etc/os-release\n"
                                  "etc/passwd\n"
                                  "etc/ssl\n"
                                  "etc/ssl/certs\n"
                                  "etc/ssl/certs/4042bcee.0\n"
                                  "etc/ssl/certs/ISRG_Root_X1.pem\n"
                                  "etc/ssl/certs/ca-certificates.crt\n"
                                  "etc/ssl/openssl.cnf\n"
                                  "lib\n"
                                  "lib/x86_64-linux-gnu\n"
                                  "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
                                  "lib/x86_64-linux-gnu/libc.so.6\n"
                                  "lib64\n"
                                  "lib64/ld-linux-x86-64.so.2\n"
                                  "tmp\n"
                                  "usr\n"
                                  "usr/bin\n"
                                  "usr/bin/curlish\n"
                                  "usr/bin/env\n"
                                  "usr/bin/python3\n"
                                  "usr/bin/python3.11\n"
                                  "usr/lib\n"
                                  "usr/lib/locale\n"
                                  "usr/lib/locale/fr_FR.utf8\n"
                                  "usr/lib/locale/fr_FR.utf8/LC_CTYPE\n"
                                  "usr/lib/os-release\n"
                                  "usr/lib/ssl\n"
                                  "usr/lib/ssl/certs\n"
                                  "usr/lib/ssl/openssl.cnf\n"
                                  "usr/lib/x86_64-linux-gnu\n"
                                  "usr/lib/x86_64-linux-gnu/gconv\n"
                                  "usr/lib/x86_64-linux-gnu/gconv/UTF-16.so\n"
                                  "usr/lib/x86_64-linux-gnu/gconv/gconv-modules\n"
                                  "usr/lib/x86_64-linux-gnu/libcrypto.so.3\n"
                                  "usr/lib/x86_64-linux-gnu/libssl.so.3\n"
                                  "usr/share\n"
                                  "usr/share/ca-certificates\n"
                                  "usr/share/ca-certificates/mozilla\n"
                                  "usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt\n"
                                  "usr/share/locale\n"
                                  "usr/share/locale/fr\n"
                                  "usr/share/locale/fr/LC_MESSAGES\n"
                                  "usr/share/locale/fr/LC_MESSAGES/coreutils.mo\n"
                                  "usr/share/locale/locale.alias\n"
                                  "usr/share/zoneinfo\n"
                                  "usr/share/zoneinfo/Etc\n"
                                  "usr/share/zoneinfo/Etc/UTC\n"
                                  "usr/share/zoneinfo/Europe\n"
                                  "usr/share/zoneinfo/Europe/Paris\n"
                                  "usr/share/zoneinfo/tzdata.zi\n"
                                  "usr/share/zoneinfo/zone1970.tab\n"
                                  "var\n"
                                  "var/tmp\n";

static void test_debian(void)
{
        struct wh_index *idx = wh_index_new();
        struct wh_profile *p = wh_profile_new();
        struct wh_closure_stats st;
        struct wh_err err;
        debian_tree(idx);

        wh_strv_add(&p->keep, "/app/tool.py");
        wh_strv_add(&p->needs, "ca-certificates");
        wh_strv_add(&p->needs, "tzdata:Europe/Paris");
        wh_strv_add(&p->needs, "locale:fr_FR.UTF-8");
        wh_strv_add(&p->needs, "gconv");
        wh_strv_add(&p->needs, "shell");
        wh_strv_add(&p->needs, "users");
        wh_strv_add(&p->needs, "tmp");

        _cleanup_strv_ char **cmd = strv(LIST("sh", "-c", "exec /app/start --flag"));
        _cleanup_strv_ char **env = strv(LIST("HOME=/root"));
        p->cmd = strv(LIST("curlish", "https://example.com"));
        struct wh_closure_input in = {
                .profile = p,
                .cmd = cmd,
                .env = env,
                .user = "1000:1000",
        };
        capture_start();
        int r = wh_closure_run(idx, &in, &st, &err);
        _cleanup_free_ char *warnings = capture_end();
        is_int(r, 0, "debian: closure runs");
        _cleanup_free_ char *got = kept_set(idx);
        is_set(got, debian_kept, "debian");

        is_reason(idx, "bin/sh", "symlink on the way to /bin/dash");
        is_reason(idx, "bin/dash", "cmd");
        is_reason(idx, "app/start", "cmd");
        is_reason(idx, "usr/bin/curlish", "profile cmd");
        is_reason(idx, "lib64/ld-linux-x86-64.so.2",
                  "symlink on the way to /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        is_reason(idx, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                  "PT_INTERP of /bin/dash");
        is_reason(idx, "lib/x86_64-linux-gnu/libc.so.6", "DT_NEEDED of /bin/dash");
        is_reason(idx, "usr/lib/x86_64-linux-gnu/libcrypto.so.3",
                  "DT_NEEDED of /usr/lib/x86_64-linux-gnu/libssl.so.3");
        is_reason(idx, "usr/bin/python3.11", "interpreter of /app/tool.py");
        is_reason(idx, "usr/bin/env", "interpreter of /app/tool.py");
        is_reason(idx, "usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt",
                  "target of /etc/ssl/certs/4042bcee.0");
        is_reason(idx, "etc/ssl/certs/4042bcee.0", "feature ca-certificates");
        is_reason(idx, "usr/share/zoneinfo/Europe/Paris", "feature tzdata:Europe/Paris");
        is_reason(idx, "usr/share/zoneinfo/Etc/UTC", "feature tzdata:Europe/Paris");
        is_reason(idx, "etc/localtime",
                  "symlink on the way to /usr/share/zoneinfo/Etc/UTC");
        is_reason(idx, "app/tool.py", "keep /app/tool.py");
        is_reason(idx, "tmp/leftover", NULL);
        is_reason(idx, "usr/share/locale/fr/LC_MESSAGES/coreutils.mo",
                  "feature locale:fr_FR.UTF-8");
        is_reason(idx, "usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", "feature gconv");
        is_reason(idx, "usr/lib/locale/locale-archive", NULL);
        is_reason(idx, "usr/share/doc/dash/copyright", NULL);
        struct wh_entry *tmp = wh_index_get(idx, "tmp");
        ok(tmp && tmp->mode == 01777, "existing /tmp gets mode 1777");
        is_str(warnings, "", "debian: no warnings");
        check_stats(idx, &st, debian_kept, "debian");

        wh_profile_free(p);
        wh_index_free(idx);
}

/* ---- small cases ---- */

/* Runs the closure on idx with only a cmd; returns the warnings. */
static char *run_cmd(struct wh_index *idx, const char *const *cmd, const char *const *needs)
{
        struct wh_profile *p = wh_profile_new();
        for (const char *const *n = needs; n && *n; n++)
                wh_strv_add(&p->needs, *n);
        char **c = strv(cmd);
        struct wh_closure_input in = {.profile = p, .cmd = c};
        struct wh_closure_stats st;
        struct wh_err err;
        capture_start();
        int r = wh_closure_run(idx, &in, &st, &err);
        char *w = capture_end();
        is_int(r, 0, "closure runs for %s", cmd[0]);
        wh_strv_free(c);
        wh_profile_free(p);
        return w;
}

static void test_loops_and_missing(void)
{
        struct wh_index *idx = wh_index_new();
        symlink_(idx, "usr/bin/a", "b");
        symlink_(idx, "usr/bin/b", "/usr/bin/a");
        symlink_(idx, "dirloop", "dirloop/x");
        script(idx, "usr/bin/s", "/usr/bin/a");
        script(idx, "usr/bin/t", "/dirloop/sh");
        script(idx, "usr/bin/u", "/usr/bin/env nothere");
        PROG(idx, "usr/bin/env", "libmissing.so.9");
        _cleanup_free_ char *w1 = run_cmd(idx, LIST("/usr/bin/a"), NULL);
        has_warning(w1, "cmd: /usr/bin/a not found", 1);
        ok(!wh_index_get(idx, "usr/bin/a")->keep_reason, "looping link not kept");
        _cleanup_free_ char *w2 = run_cmd(idx, LIST("s"), NULL);
        has_warning(w2, "/usr/bin/s: interpreter /usr/bin/a not found", 1);
        _cleanup_free_ char *w3 = run_cmd(idx, LIST("t"), NULL);
        has_warning(w3, "/usr/bin/t: interpreter /dirloop/sh not found", 1);
        _cleanup_free_ char *w4 = run_cmd(idx, LIST("u"), NULL);
        has_warning(w4, "/usr/bin/env: DT_NEEDED libmissing.so.9 not found", 1);
        has_warning(w4, "/usr/bin/u: nothere (run by env) not found", 1);
        has_warning(w4, "/usr/bin/env: PT_INTERP " LD64 " not found", 1);
        wh_index_free(idx);
}

/* A chain of 5000 libraries: the work queue, not the stack, carries it. */
static void test_deep_chain(void)
{
        struct wh_index *idx = wh_index_new();
        char path[64], next[64];
        enum { N = 5000 };
        for (int i = 0; i < N; i++) {
                snprintf(path, sizeof(path), "usr/lib64/lib%d.so", i);
                snprintf(next, sizeof(next), "lib%d.so", i + 1);
                if (i + 1 < N)
                        LIB(idx, path, next);
                else
                        LIB(idx, path, NULL);
        }
        PROG(idx, "usr/bin/deep", "lib0.so");
        LIB(idx, "usr/lib64/ld-linux-x86-64.so.2", NULL);
        symlink_(idx, "lib64", "usr/lib64");
        _cleanup_free_ char *w = run_cmd(idx, LIST("deep"), NULL);
        snprintf(path, sizeof(path), "usr/lib64/lib%d.so", N - 1);
        is_reason(idx, path, "DT_NEEDED of /usr/lib64/lib4998.so");
        is_str(w, "", "deep chain: no warnings");
        wh_index_free(idx);
}

/* RPATH of an object is ignored when it also has RUNPATH; $LIB and ${ORIGIN} expand. */
static void test_rpath_rules(void)
{
        struct wh_index *idx = wh_index_new();
        LIB(idx, "usr/lib64/ld-linux-x86-64.so.2", NULL);
        symlink_(idx, "lib64", "usr/lib64");
        elf(idx, "opt/a/bin/a", 1, EM_X86_64, LD64, "/opt/a/rpath", "/opt/a/runpath",
            LIST("libx.so"));
        LIB(idx, "opt/a/rpath/libx.so", NULL);
        LIB(idx, "opt/a/runpath/libx.so", NULL);
        elf(idx, "opt/b/bin/b", 1, EM_X86_64, LD64, "${ORIGIN}/../$LIB", NULL,
            LIST("liby.so"));
        LIB(idx, "opt/b/lib64/liby.so", NULL);
        elf(idx, "opt/c/c", 1, EM_X86_64, LD64, "$ORIGIN/$PLATFORM", NULL, LIST("libz.so"));
        LIB(idx, "opt/c/x86_64/libz.so", NULL);
        _cleanup_free_ char *w1 = run_cmd(idx, LIST("/opt/a/bin/a"), NULL);
        is_reason(idx, "opt/a/runpath/libx.so", "DT_NEEDED of /opt/a/bin/a");
        is_reason(idx, "opt/a/rpath/libx.so", NULL);
        _cleanup_free_ char *w2 = run_cmd(idx, LIST("/opt/b/bin/b"), NULL);
        is_reason(idx, "opt/b/lib64/liby.so", "DT_NEEDED of /opt/b/bin/b");
        _cleanup_free_ char *w3 = run_cmd(idx, LIST("/opt/c/c"), NULL);
        is_reason(idx, "opt/c/x86_64/libz.so", "DT_NEEDED of /opt/c/c");
        is_str(w3, "", "rpath rules: no warnings");
        wh_index_free(idx);
}

/* nsswitch.conf without content captured falls back to glibc's default (files dns). */
static void test_nss_default(void)
{
        struct wh_index *idx = wh_index_new();
        LIB(idx, "usr/lib64/libnss_dns.so.2", NULL);
        LIB(idx, "usr/lib64/libnss_sss.so.2", NULL);
        file(idx, "etc/hosts");
        _cleanup_free_ char *w = run_cmd(idx, LIST("/nothing"), LIST("nss"));
        is_reason(idx, "usr/lib64/libnss_dns.so.2", "feature nss");
        is_reason(idx, "usr/lib64/libnss_sss.so.2", NULL);
        is_reason(idx, "etc/hosts", "feature nss");
        wh_index_free(idx);
}

/* keep "/" keeps the image minus the drops; a drop of a directory drops its contents. */
static void test_keep_root(void)
{
        struct wh_index *idx = wh_index_new();
        struct wh_profile *p = wh_profile_new();
        struct wh_err err;
        file(idx, "app/a.py");
        file(idx, "app/__pycache__/a.pyc");
        file(idx, "usr/share/doc/x/README");
        file(idx, "usr/share/man/man1/x.1");
        file(idx, "etc/hostname");
        file(idx, "usr/lib/py/mod.py");
        wh_index_get(idx, "usr/lib/py/mod.py")->shebang = strdup("/usr/bin/perl");
        elf(idx, "usr/bin/perl", 1, EM_X86_64, NULL, NULL, NULL, NONE);
        script(idx, "app/crlf.sh", "/bin/true\r");
        file(idx, "bin/true");
        wh_strv_add(&p->keep, "/");
        wh_strv_add(&p->drop, "**/__pycache__");
        wh_strv_add(&p->drop, "/usr/bin");
        struct wh_closure_input in = {.profile = p, .workdir = "/"};
        capture_start();
        int r = wh_closure_run(idx, &in, NULL, &err);
        _cleanup_free_ char *w = capture_end();
        is_int(r, 0, "keep /: runs");
        _cleanup_free_ char *got = kept_set(idx);
        is_set(got,
               "app\napp/a.py\napp/crlf.sh\nbin\nbin/true\netc\netc/hostname\nusr\n"
               "usr/lib\nusr/lib/py\nusr/lib/py/mod.py\nusr/share\n",
               "keep /");
        is_reason(idx, "app/a.py", "keep /");
        is_reason(idx, "usr/bin/perl",
                  NULL); /* #! of a file without x bit is not followed */
        is_str(w, "",
               "keep /: no warnings (the \\r of a CRLF #! line is not part of the name)");
        wh_profile_free(p);
        wh_index_free(idx);
}

/* ld.so.conf files that include each other are read once each. */
static void test_conf_cycle(void)
{
        struct wh_index *idx = wh_index_new();
        char path[64];
        LIB(idx, "usr/lib64/ld-linux-x86-64.so.2", NULL);
        symlink_(idx, "lib64", "usr/lib64");
        conf(idx, "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
        for (int i = 0; i < 40; i++) {
                snprintf(path, sizeof(path), "etc/ld.so.conf.d/%02d.conf", i);
                conf(idx, path,
                     "include /etc/ld.so.conf.d/*.conf\ninclude ../ld.so.conf\n");
        }
        conf(idx, "etc/ld.so.conf.d/zz.conf", "/opt/deep/lib\n");
        PROG(idx, "usr/bin/p", "libdeep.so");
        LIB(idx, "opt/deep/lib/libdeep.so", NULL);
        _cleanup_free_ char *w = run_cmd(idx, LIST("p"), NULL);
        is_reason(idx, "opt/deep/lib/libdeep.so", "DT_NEEDED of /usr/bin/p");
        is_str(w, "", "include cycle: no warnings");
        wh_index_free(idx);
}

static void test_feature_errors(void)
{
        struct wh_index *idx = wh_index_new();
        struct wh_profile *p = wh_profile_new();
        struct wh_closure_input in = {.profile = p};
        struct wh_err err;
        wh_strv_add(&p->needs, "tzdata:../../etc/shadow");
        is_int(wh_closure_run(idx, &in, NULL, &err), -EINVAL,
               "tzdata zone with .. refused");
        ok(strstr(err.msg, "tzdata") != NULL, "error names the feature: %s", err.msg);
        wh_strv_free(p->needs);
        p->needs = strv(LIST("nonsense"));
        is_int(wh_closure_run(idx, &in, NULL, &err), -EINVAL, "unknown feature refused");
        wh_profile_free(p);
        wh_index_free(idx);
}

int main(void)
{
        test_al2023();
        test_debian();
        test_loops_and_missing();
        test_deep_chain();
        test_rpath_rules();
        test_nss_default();
        test_keep_root();
        test_conf_cycle();
        test_feature_errors();
        return done_testing();
}
