/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the ELF reader: crafted files of both classes and byte
 * orders, every kind of broken header we could think of, host binaries
 * cross-checked against readelf, the streaming prefix logic, and a replay
 * of the fuzz corpus.
 *
 * `test_elf --write-corpus DIR` writes the crafted files as seeds for
 * tests/fuzz/fuzz_elf.c (that is how tests/fuzz/corpus/elf/ is made).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../builder/elf.h"
#include "cleanup.h"
#include "fs_util.h"
#include "tap.h"

/* ---- a tiny ELF writer ---- */

struct mk {
        uint8_t b[2048];
        size_t len;
        int is64, msb;
};

static void put(struct mk *m, size_t off, uint64_t v, unsigned width)
{
        for (unsigned i = 0; i < width; i++) {
                unsigned shift = m->msb ? 8 * (width - 1 - i) : 8 * i;
                m->b[off + i] = (uint8_t)(v >> shift);
        }
}

static void put_word(struct mk *m, size_t off, uint64_t v)
{
        put(m, off, v, m->is64 ? 8 : 4);
}

#define VBASE      0x400000u
#define OFF_INTERP 0x200u
#define OFF_STRTAB 0x300u
#define OFF_DYN    0x400u

static const char strtab[] =
        "\0libfoo.so.1\0libbar.so.2\0$ORIGIN/../lib\0/opt/run\0libself.so.0";
enum { S_FOO = 1, S_BAR = 13, S_RPATH = 25, S_RUNPATH = 40, S_SONAME = 49 };

static size_t phdr_off(const struct mk *m, unsigned i)
{
        return (m->is64 ? 64 : 52) + i * (m->is64 ? 56 : 32);
}

static void put_phdr(struct mk *m, unsigned i, uint32_t type, uint64_t off, uint64_t vaddr,
                     uint64_t filesz)
{
        size_t p = phdr_off(m, i);
        put(m, p, type, 4);
        if (m->is64) {
                put(m, p + 4, PF_R, 4);
                put_word(m, p + 8, off);
                put_word(m, p + 16, vaddr);
                put_word(m, p + 24, vaddr);
                put_word(m, p + 32, filesz);
                put_word(m, p + 40, filesz);
        } else {
                put_word(m, p + 4, off);
                put_word(m, p + 8, vaddr);
                put_word(m, p + 12, vaddr);
                put_word(m, p + 16, filesz);
                put_word(m, p + 20, filesz);
        }
}

static void put_dyn(struct mk *m, unsigned i, uint64_t tag, uint64_t val)
{
        size_t e = OFF_DYN + i * (m->is64 ? 16 : 8);
        put_word(m, e, tag);
        put_word(m, e + (m->is64 ? 8 : 4), val);
}

/*
 * A dynamic program: PT_LOAD over the whole file, PT_INTERP, PT_DYNAMIC
 * with two DT_NEEDED, RPATH, RUNPATH, SONAME. dynamic = 0 makes it static.
 */
static void mk_elf(struct mk *m, int is64, int msb, uint16_t machine, int dynamic)
{
        memset(m, 0, sizeof(*m));
        m->is64 = is64;
        m->msb = msb;
        m->len = 0x500;
        memcpy(m->b, ELFMAG, SELFMAG);
        m->b[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
        m->b[EI_DATA] = msb ? ELFDATA2MSB : ELFDATA2LSB;
        m->b[EI_VERSION] = EV_CURRENT;
        put(m, 16, dynamic ? ET_DYN : ET_EXEC, 2);
        put(m, 18, machine, 2);
        put(m, 20, EV_CURRENT, 4);
        if (is64) {
                put_word(m, 32, 64); /* e_phoff */
                put(m, 52, 64, 2);
                put(m, 54, 56, 2);
                put(m, 56, dynamic ? 3 : 1, 2);
        } else {
                put_word(m, 28, 52);
                put(m, 40, 52, 2);
                put(m, 42, 32, 2);
                put(m, 44, dynamic ? 3 : 1, 2);
        }
        put_phdr(m, 0, PT_LOAD, 0, VBASE, m->len);
        if (!dynamic)
                return;
        put_phdr(m, 1, PT_INTERP, OFF_INTERP, VBASE + OFF_INTERP, 18);
        memcpy(m->b + OFF_INTERP, "/lib/ld-test.so.1", 18);
        put_phdr(m, 2, PT_DYNAMIC, OFF_DYN, VBASE + OFF_DYN, 9 * (is64 ? 16 : 8));
        memcpy(m->b + OFF_STRTAB, strtab, sizeof(strtab));
        put_dyn(m, 0, DT_NEEDED, S_FOO);
        put_dyn(m, 1, DT_NEEDED, S_BAR);
        put_dyn(m, 2, DT_RPATH, S_RPATH);
        put_dyn(m, 3, DT_RUNPATH, S_RUNPATH);
        put_dyn(m, 4, DT_SONAME, S_SONAME);
        put_dyn(m, 5, DT_STRTAB, VBASE + OFF_STRTAB);
        put_dyn(m, 6, DT_STRSZ, sizeof(strtab));
        put_dyn(m, 7, DT_NULL, 0);
}

static int parse(const struct mk *m, struct wh_elf_info **ret, struct wh_err *err)
{
        wh_err_clear(err);
        return wh_elf_parse(m->b, m->len, ret, err);
}

static void check_good(int is64, int msb, uint16_t machine)
{
        struct mk m;
        struct wh_elf_info *info = NULL;
        struct wh_err err;
        const char *what = is64 ? (msb ? "ELF64 MSB" : "ELF64 LSB")
                                : (msb ? "ELF32 MSB" : "ELF32 LSB");

        mk_elf(&m, is64, msb, machine, 1);
        is_int(parse(&m, &info, &err), 0, "%s parses", what);
        if (!info)
                return;
        is_int(info->elf_class, is64 ? ELFCLASS64 : ELFCLASS32, "%s class", what);
        is_int(info->data, msb ? ELFDATA2MSB : ELFDATA2LSB, "%s data", what);
        is_int(info->machine, machine, "%s machine", what);
        is_int(info->type, ET_DYN, "%s type", what);
        is_str(info->interp, "/lib/ld-test.so.1", "%s interp", what);
        is_str(info->needed[0], "libfoo.so.1", "%s needed[0]", what);
        is_str(info->needed[1], "libbar.so.2", "%s needed[1]", what);
        ok(info->needed[2] == NULL, "%s needed ends", what);
        is_str(info->rpath, "$ORIGIN/../lib", "%s rpath", what);
        is_str(info->runpath, "/opt/run", "%s runpath", what);
        is_str(info->soname, "libself.so.0", "%s soname", what);
        wh_elf_info_free(info);

        mk_elf(&m, is64, msb, machine, 0);
        info = NULL;
        is_int(parse(&m, &info, &err), 0, "%s static parses", what);
        if (!info)
                return;
        ok(info->interp == NULL, "%s static: no interp", what);
        ok(info->needed && info->needed[0] == NULL, "%s static: empty needed", what);
        is_int(info->type, ET_EXEC, "%s static type", what);
        wh_elf_info_free(info);
}

/* Expects parse failure with -EINVAL and a message containing want. */
static void check_bad(const struct mk *m, const char *want, const char *what)
{
        struct wh_elf_info *info = NULL;
        struct wh_err err;
        int r = parse(m, &info, &err);
        is_int(r, -EINVAL, "%s refused", what);
        ok(info == NULL, "%s: no result", what);
        ok(strstr(err.msg, want) != NULL, "%s: message '%s' mentions '%s'", what, err.msg,
           want);
        /* The streaming helper must not loop or ask for absurd sizes either. */
        uint64_t need = wh_elf_bytes_needed(m->b, m->len);
        ok(need == 0 || need <= (64u << 20), "%s: bytes_needed sane (%llu)", what,
           (unsigned long long)need);
        wh_elf_info_free(info);
}

/* The crafted broken inputs; also the fuzz seeds. */
static int mk_broken(unsigned i, struct mk *m, const char **want, const char **what)
{
        mk_elf(m, 1, 0, EM_X86_64, 1);
        switch (i) {
        case 0:
                m->len = 3;
                *want = "not an ELF";
                *what = "3 bytes";
                return 1;
        case 1:
                m->len = 40;
                *want = "header truncated";
                *what = "truncated ELF64 header";
                return 1;
        case 2:
                m->b[EI_CLASS] = 7;
                *want = "class";
                *what = "unknown class";
                return 1;
        case 3:
                m->b[EI_DATA] = 9;
                *want = "data encoding";
                *what = "unknown byte order";
                return 1;
        case 4:
                put_word(m, 32, 0x10000);
                *want = "program headers";
                *what = "phoff past end";
                return 1;
        case 5:
                put_word(m, 32, UINT64_MAX - 8);
                *want = "program headers";
                *what = "phoff overflows";
                return 1;
        case 6:
                put(m, 56, 0xfffe, 2);
                *want = "program header count";
                *what = "huge phnum";
                return 1;
        case 7:
                put(m, 54, 8, 2);
                *want = "entry size";
                *what = "tiny phentsize";
                return 1;
        case 8:
                put_phdr(m, 2, PT_DYNAMIC, 0x4f0, VBASE + 0x4f0, 0x100);
                *want = "dynamic section";
                *what = "dynamic past end";
                return 1;
        case 9:
                put_phdr(m, 2, PT_DYNAMIC, UINT64_MAX - 4, 0, 0x100);
                *want = "dynamic section";
                *what = "dynamic offset overflows";
                return 1;
        case 10:
                put_phdr(m, 1, PT_INTERP, OFF_INTERP, VBASE + OFF_INTERP, 4);
                *want = "PT_INTERP not terminated";
                *what = "unterminated interp";
                return 1;
        case 11:
                put_phdr(m, 1, PT_INTERP, 0x4ff, 0, 0x10);
                *want = "PT_INTERP";
                *what = "interp past end";
                return 1;
        case 12:
                put_dyn(m, 6, DT_STRSZ, 12); /* cuts "libbar.so.2" short of its NUL */
                *want = "not terminated";
                *what = "unterminated DT_NEEDED";
                return 1;
        case 13:
                put_dyn(m, 0, DT_NEEDED, 0x7fffffff);
                *want = "past DT_STRSZ";
                *what = "needed offset past strsz";
                return 1;
        case 14:
                put_dyn(m, 5, DT_STRTAB, 0x10);
                *want = "not in any PT_LOAD";
                *what = "strtab unmapped";
                return 1;
        case 15:
                put_dyn(m, 6, DT_STRSZ, UINT64_MAX);
                *want = "string table";
                *what = "huge strsz";
                return 1;
        case 16:
                put_dyn(m, 5, DT_NULL, 0);
                *want = "DT_STRTAB";
                *what = "no strtab";
                return 1;
        case 17:
                put_phdr(m, 2, PT_DYNAMIC, 0, VBASE, UINT64_MAX / 2);
                *want = "dynamic section";
                *what = "huge dynamic size";
                return 1;
        case 18:
                /* strtab whose start maps to a file offset past the end */
                put_phdr(m, 0, PT_LOAD, 0x100000, VBASE, 0x1000);
                *want = "string table";
                *what = "strtab mapped outside";
                return 1;
        case 19:
                put_phdr(m, 1, PT_INTERP, OFF_INTERP, VBASE, 0);
                *want = "PT_INTERP";
                *what = "empty interp";
                return 1;
        default:
                return 0;
        }
}

static void test_crafted(void)
{
        check_good(1, 0, EM_X86_64);
        check_good(1, 1, EM_PPC64);
        check_good(0, 0, EM_386);
        check_good(0, 1, EM_MIPS);

        struct mk m;
        const char *want, *what;
        for (unsigned i = 0; mk_broken(i, &m, &want, &what); i++)
                check_bad(&m, want, what);

        /* Without PT_DYNAMIC's strings no string table is needed. */
        mk_elf(&m, 1, 0, EM_X86_64, 1);
        put_dyn(&m, 0, DT_NULL, 0);
        struct wh_elf_info *info = NULL;
        struct wh_err err;
        is_int(parse(&m, &info, &err), 0, "empty dynamic section parses");
        ok(info && info->needed && !info->needed[0] && !info->soname,
           "empty dynamic: nothing");
        wh_elf_info_free(info);

        /* A dynamic section with no DT_NULL ends at its size. */
        mk_elf(&m, 1, 0, EM_X86_64, 1);
        put_phdr(&m, 2, PT_DYNAMIC, OFF_DYN, VBASE + OFF_DYN, 7 * 16);
        info = NULL;
        is_int(parse(&m, &info, &err), 0, "dynamic without DT_NULL parses");
        ok(info && info->needed[1] && !strcmp(info->needed[1], "libbar.so.2"),
           "dynamic without DT_NULL: needed read");
        wh_elf_info_free(info);

        ok(wh_elf_is_elf("\177ELF", 4), "magic recognised");
        ok(!wh_elf_is_elf("#!/bin/sh", 9), "script is not ELF");
        ok(!wh_elf_is_elf("\177EL", 3), "short buffer is not ELF");
}

static void test_compatible(void)
{
        struct wh_elf_info a = {
                .elf_class = ELFCLASS64, .data = ELFDATA2LSB, .machine = EM_X86_64};
        struct wh_elf_info b = a, c = a, d = a;
        c.elf_class = ELFCLASS32;
        d.machine = EM_AARCH64;
        ok(wh_elf_compatible(&a, &b), "same class and machine compatible");
        ok(!wh_elf_compatible(&a, &c), "32-bit lib incompatible with 64-bit program");
        ok(!wh_elf_compatible(&a, &d), "aarch64 lib incompatible with x86_64 program");
}

/* Feeds a growing prefix, as a streaming reader would. */
static void test_streaming_crafted(void)
{
        struct mk m;
        mk_elf(&m, 1, 0, EM_X86_64, 1);
        is_int(wh_elf_bytes_needed(m.b, 2), SELFMAG, "2 bytes: ask for the magic");
        is_int(wh_elf_bytes_needed(m.b, 10), 64, "10 bytes: ask for the ELF64 header");
        is_int(wh_elf_bytes_needed(m.b, 64), 64 + 3 * 56, "header: ask for phdrs");
        is_int(wh_elf_bytes_needed(m.b, 232), OFF_DYN + 9 * 16, "phdrs: ask up to dynamic");
        is_int(wh_elf_bytes_needed(m.b, OFF_DYN + 9 * 16), 0, "strtab lies before: enough");
        is_int(wh_elf_bytes_needed("#!/bin/sh\n", 10), 0, "not ELF: 0");
        mk_elf(&m, 0, 1, EM_MIPS, 1);
        is_int(wh_elf_bytes_needed(m.b, 20), 52, "ELF32: ask for its header");
}

/* ---- host binaries ---- */

static char *run_readelf(const char *flags, const char *path)
{
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "readelf %s '%s' 2>/dev/null", flags, path) < 0)
                return NULL;
        FILE *f = popen(cmd, "r");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t cap = 0, len = 0, n;
        char chunk[4096];
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                if (len + n + 1 > cap) {
                        cap = (len + n + 1) * 2;
                        char *nb = realloc(buf, cap);
                        if (!nb)
                                break;
                        buf = nb;
                }
                memcpy(buf + len, chunk, n);
                len += n;
                buf[len] = '\0';
        }
        pclose(f);
        return buf;
}

/* The string list readelf -d prints for a tag, e.g. "(NEEDED)" -> "a,b,". */
static void readelf_values(const char *out, const char *tag, const char *prefix, char *dst,
                           size_t cap)
{
        dst[0] = '\0';
        for (const char *p = out; p && (p = strstr(p, tag)); p++) {
                const char *v = strstr(p, prefix);
                const char *eol = strchr(p, '\n');
                if (!v || (eol && v > eol))
                        continue;
                v += strlen(prefix);
                const char *end = strchr(v, ']');
                if (!end)
                        continue;
                size_t l = strlen(dst);
                snprintf(dst + l, cap - l, "%.*s,", (int)(end - v), v);
        }
}

static void join_needed(char **v, char *dst, size_t cap)
{
        dst[0] = '\0';
        for (; v && *v; v++) {
                size_t l = strlen(dst);
                snprintf(dst + l, cap - l, "%s,", *v);
        }
}

static void check_streaming(const char *path, const char *buf, size_t len,
                            const struct wh_elf_info *full)
{
        size_t have = 64 < len ? 64 : len;
        int rounds = 0;
        uint64_t need;
        while ((need = wh_elf_bytes_needed(buf, have)) != 0 && rounds++ < 8) {
                if (need <= have || need > len)
                        break;
                have = need;
        }
        ok(need == 0 && rounds <= 4, "%s: prefix of %zu/%zu bytes after %d rounds", path,
           have, len, rounds);
        struct wh_elf_info *info = NULL;
        struct wh_err err;
        int r = wh_elf_parse(buf, have, &info, &err);
        is_int(r, 0, "%s: prefix parses", path);
        if (r == 0) {
                char a[4096], b[4096];
                join_needed(full->needed, a, sizeof(a));
                join_needed(info->needed, b, sizeof(b));
                is_str(b, a, "%s: prefix gives the same DT_NEEDED", path);
                is_str(info->interp, full->interp, "%s: prefix gives the same interp",
                       path);
        }
        wh_elf_info_free(info);
}

/* Reads a host file, following symlinks (wh_read_file_at refuses them). */
static int read_host(const char *path, size_t max, char **ret, size_t *ret_len,
                     struct wh_err *err)
{
        _cleanup_free_ char *real = realpath(path, NULL);
        if (!real)
                return wh_fail(err, errno, "realpath '%s'", path);
        return wh_read_file_at(AT_FDCWD, real, max, ret, ret_len, err);
}

enum host_kind { HOST_PROGRAM, HOST_STATIC, HOST_LIBRARY };

static void check_host(const char *path, enum host_kind kind)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct wh_err err;
        if (access(path, R_OK) != 0) {
                ok(1, "# SKIP %s not on this host", path);
                return;
        }
        int r = read_host(path, 256u << 20, &buf, &len, &err);
        if (r < 0) {
                ok(1, "# SKIP %s unreadable: %s", path, err.msg);
                return;
        }
        struct wh_elf_info *info = NULL;
        r = wh_elf_parse(buf, len, &info, &err);
        is_int(r, 0, "%s parses%s%s", path, r < 0 ? ": " : "", r < 0 ? err.msg : "");
        if (r < 0)
                return;
        if (kind == HOST_STATIC)
                ok(!info->interp && !info->needed[0], "%s: static, no interp or needed",
                   path);
        else if (kind == HOST_PROGRAM)
                ok(info->interp && info->interp[0] == '/', "%s: has an absolute interp",
                   path);
        else
                ok(info->soname != NULL, "%s: library has a soname", path);
        _cleanup_free_ char *dyn = run_readelf("-dW", path);
        _cleanup_free_ char *hdr = run_readelf("-lW", path);
        if (!dyn || !hdr) {
                ok(1, "# SKIP readelf not available");
        } else {
                char want[4096], got[4096];
                readelf_values(dyn, "(NEEDED)", "Shared library: [", want, sizeof(want));
                join_needed(info->needed, got, sizeof(got));
                is_str(got, want, "%s: DT_NEEDED as readelf", path);
                readelf_values(dyn, "(SONAME)", "Library soname: [", want, sizeof(want));
                snprintf(got, sizeof(got), "%s%s", info->soname ? info->soname : "",
                         info->soname ? "," : "");
                is_str(got, want, "%s: DT_SONAME as readelf", path);
                readelf_values(dyn, "(RUNPATH)", "Library runpath: [", want, sizeof(want));
                snprintf(got, sizeof(got), "%s%s", info->runpath ? info->runpath : "",
                         info->runpath ? "," : "");
                is_str(got, want, "%s: DT_RUNPATH as readelf", path);
                readelf_values(hdr, "program interpreter", "interpreter: ", want,
                               sizeof(want));
                snprintf(got, sizeof(got), "%s%s", info->interp ? info->interp : "",
                         info->interp ? "," : "");
                is_str(got, want, "%s: PT_INTERP as readelf", path);
        }
        check_streaming(path, buf, len, info);
        wh_elf_info_free(info);
}

static void test_host(void)
{
        check_host("/bin/sh", HOST_PROGRAM);
        check_host("/usr/bin/python3", HOST_PROGRAM);
        check_host("/lib/x86_64-linux-gnu/libc.so.6", HOST_LIBRARY);
        check_host("/lib/x86_64-linux-gnu/libz.so.1", HOST_LIBRARY);
        check_host("/usr/bin/tini-static", HOST_STATIC);
        /* static-pie: PT_DYNAMIC without DT_NEEDED */
        check_host("/sbin/ldconfig", HOST_STATIC);

        /* Every truncation of a real binary fails cleanly or parses a prefix. */
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct wh_err err;
        if (read_host("/bin/sh", 16u << 20, &buf, &len, &err) < 0) {
                ok(1, "# SKIP /bin/sh unreadable");
                return;
        }
        int failures = 0, parsed = 0;
        size_t step = len / 1024 > 7 ? len / 1024 : 7;
        for (size_t cut = 0; cut <= len;
             cut = cut == len ? len + 1 : (cut + step > len ? len : cut + step)) {
                struct wh_elf_info *info = NULL;
                int r = wh_elf_parse(buf, cut, &info, &err);
                if (r == 0)
                        parsed++;
                else if (r != -EINVAL || !err.msg[0])
                        failures++;
                wh_elf_info_free(info);
        }
        is_int(failures, 0, "truncated /bin/sh: every failure is -EINVAL with a message");
        ok(parsed > 0, "truncated /bin/sh: long enough prefixes parse (%d)", parsed);
}

/* ---- the fuzz corpus, replayed ---- */

static void test_corpus(void)
{
        const char *dir = getenv("WH_ELF_CORPUS");
        if (!dir)
                dir = "tests/fuzz/corpus/elf";
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d) {
                ok(1, "# SKIP corpus %s not found (run from the source tree)", dir);
                return;
        }
        int files = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *path = NULL, *buf = NULL;
                size_t len = 0;
                struct wh_err err;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        continue;
                if (wh_read_file_at(AT_FDCWD, path, 1u << 20, &buf, &len, &err) < 0)
                        continue;
                struct wh_elf_info *info = NULL;
                int r = wh_elf_parse(buf, len, &info, &err);
                (void)wh_elf_bytes_needed(buf, len);
                ok(r == 0 || r == -EINVAL, "corpus %s: %s", de->d_name,
                   r == 0 ? "parses" : err.msg);
                wh_elf_info_free(info);
                files++;
        }
        ok(files > 0, "corpus has %d files", files);
}

static int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd =
                open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        return wh_write_all(fd, buf, len);
}

static int write_corpus(const char *dir)
{
        struct mk m;
        const char *want, *what;
        char name[64];
        static const struct {
                int is64, msb, dynamic;
                uint16_t machine;
                const char *name;
        } good[] = {
                {1, 0, 1, EM_X86_64, "good-elf64-lsb-dyn"},
                {1, 1, 1, EM_PPC64, "good-elf64-msb-dyn"},
                {0, 0, 1, EM_386, "good-elf32-lsb-dyn"},
                {0, 1, 1, EM_MIPS, "good-elf32-msb-dyn"},
                {1, 0, 0, EM_X86_64, "good-elf64-static"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                mk_elf(&m, good[i].is64, good[i].msb, good[i].machine, good[i].dynamic);
                if (write_file(dir, good[i].name, m.b, m.len) < 0)
                        return 1;
        }
        for (unsigned i = 0; mk_broken(i, &m, &want, &what); i++) {
                snprintf(name, sizeof(name), "broken-%02u", i);
                if (write_file(dir, name, m.b, m.len) < 0)
                        return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
                return write_corpus(argv[2]);
        test_crafted();
        test_compatible();
        test_streaming_crafted();
        test_host();
        test_corpus();
        return done_testing();
}
