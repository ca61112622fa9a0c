/* SPDX-License-Identifier: Apache-2.0 */
#include "init_inject.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "elf.h"
#include "log.h"

#ifndef WH_LIBEXEC_DIR
#define WH_LIBEXEC_DIR "/usr/local/libexec/whittle"
#endif

/* whittle-init is ~20 KB; anything near this is not it. */
#define INIT_MAX_SIZE (16u << 20)

/* Reads a whole regular file; 0, -ENOENT when missing, or another -errno. */
static int read_file(const char *path, void **ret, size_t *ret_len, struct wh_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : wh_fail(err, errno, "open '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return wh_fail(err, errno, "stat '%s'", path);
        if (!S_ISREG(st.st_mode))
                return wh_failx(err, EINVAL, "'%s' is not a regular file", path);
        if (st.st_size == 0 || (uint64_t)st.st_size > INIT_MAX_SIZE)
                return wh_failx(err, EINVAL,
                                "'%s': %lld bytes is not a whittle-init binary", path,
                                (long long)st.st_size);
        size_t len = (size_t)st.st_size;
        _cleanup_free_ char *buf = malloc(len);
        if (!buf)
                return wh_fail(err, ENOMEM, "read '%s'", path);
        for (size_t got = 0; got < len;) {
                ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
                if (n <= 0)
                        return wh_fail(err, n < 0 ? errno : EIO, "read '%s'", path);
                got += (size_t)n;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* The directory of the running whittle binary (caller owns), or NULL. */
static char *self_dir(void)
{
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        char *slash = strrchr(buf, '/');
        if (!slash)
                return NULL;
        *slash = '\0';
        return strdup(buf[0] ? buf : "/");
}

static int find_init(struct wh_inject *st, const char *given, struct wh_err *err)
{
        if (given) {
                int r = read_file(given, &st->init_data, &st->init_len, err);
                if (r == -ENOENT)
                        return wh_failx(err, ENOENT, "--init-path: '%s' does not exist",
                                        given);
                if (r < 0)
                        return wh_fail_ctx(err, r, "--init-path");
                return (st->init_from = strdup(given)) ? 0 : wh_fail(err, ENOMEM, "--init");
        }
        _cleanup_free_ char *dir = self_dir();
        char here[PATH_MAX + 16] = "";
        if (dir)
                snprintf(here, sizeof(here), "%s/whittle-init", dir);
        const char *const places[] = {here, WH_LIBEXEC_DIR "/whittle-init"};
        for (size_t i = 0; i < ARRAY_SIZE(places); i++) {
                if (!places[i][0])
                        continue;
                int r = read_file(places[i], &st->init_data, &st->init_len, err);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return wh_fail_ctx(err, r, "--init");
                return (st->init_from = strdup(places[i])) ? 0
                                                           : wh_fail(err, ENOMEM, "--init");
        }
        return wh_failx(err, ENOENT,
                        "--init: whittle-init not found (looked for '%s' and '%s'); "
                        "build it or give --init-path",
                        here[0] ? here : "(whittle's own directory)",
                        WH_LIBEXEC_DIR "/whittle-init");
}

int wh_inject_load(struct wh_inject *st, const struct wh_inject_opts *o, struct wh_err *err)
{
        if (!o->init)
                return 0;
        return find_init(st, o->init_path, err);
}

static const struct {
        const char *oci;
        uint16_t machine;
} machines[] = {
        {"amd64", EM_X86_64},  {"arm64", EM_AARCH64}, {"386", EM_386},
        {"arm", EM_ARM},       {"ppc64le", EM_PPC64}, {"s390x", EM_S390},
        {"riscv64", EM_RISCV},
};

/* whittle-init must run in the image: its machine, and no loader to find. */
static int check_init(const struct wh_inject *st, const char *arch, struct wh_err *err)
{
        struct wh_elf_info *info = NULL;
        int r = wh_elf_parse(st->init_data, st->init_len, &info, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "--init: '%s'", st->init_from);
        uint16_t machine = info->machine;
        int dynamic = info->interp != NULL;
        wh_elf_info_free(info);
        if (dynamic)
                return wh_failx(
                        err, EINVAL,
                        "--init: '%s' is dynamically linked; the image needs the static "
                        "whittle-init",
                        st->init_from);
        for (size_t i = 0; i < ARRAY_SIZE(machines); i++)
                if (strcmp(machines[i].oci, arch) == 0) {
                        if (machines[i].machine == machine)
                                return 0;
                        break;
                }
        return wh_failx(err, EINVAL,
                        "--init: '%s' is not built for the image's architecture '%s' "
                        "(ELF machine %u); give --init-path to one that is",
                        st->init_from, arch, machine);
}

static int compile_filter(struct wh_inject *st, const struct wh_inject_opts *o,
                          const char *arch, const struct wh_profile *p, struct wh_err *err)
{
        static const char *const dflt[] = {"default", NULL};
        const char *const *list = (const char *const *)p->syscalls;
        if (!list) {
                wh_info("--seccomp: the profile has no syscalls; using the default list");
                list = dflt;
        }
        char field[160];
        snprintf(field, sizeof(field), "profile%s%s: syscalls", p->name ? " " : "",
                 p->name ? p->name : "");
        struct wh_seccomp_opts so = {.arch = arch,
                                     .action = o->action,
                                     .errno_ret = o->errno_ret,
                                     .field = field};
        int r = wh_seccomp_bpf_compile(list, &so, &st->bpf, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "--seccomp");
        char reason[96];
        snprintf(reason, sizeof(reason), "--seccomp: %zu syscalls%s", st->bpf.n_syscalls,
                 list == dflt || (list[0] && !list[1] && strcmp(list[0], "default") == 0)
                         ? " (default)"
                         : "");
        if (!(st->bpf_reason = strdup(reason)))
                return wh_fail(err, ENOMEM, "--seccomp");
        if (!o->init)
                wh_info("--seccomp without --init: %s is written, but nothing in the image "
                        "loads it",
                        WH_SECCOMP_BPF_PATH);
        return 0;
}

/* The entrypoint after any earlier whittle-init and its options. */
static char **unwrapped(char **ep)
{
        if (!ep || !ep[0] || strcmp(ep[0], WH_INIT_PATH) != 0)
                return ep;
        for (char **a = ep + 1; *a; a++)
                if (strcmp(*a, "--") == 0)
                        return a + 1;
        return ep;
}

static int wrap_entrypoint(const struct wh_inject_opts *o, struct wh_effective *eff,
                           struct wh_err *err)
{
        _cleanup_strv_ char **v = NULL;
        char **old = unwrapped(eff->entrypoint);
        if ((!old || !old[0]) && (!eff->cmd || !eff->cmd[0]))
                wh_warn("--init: the image has no entrypoint or cmd; containers must be "
                        "given "
                        "a command");
        /* Not wh_strv_add: it drops duplicates, and arguments may repeat. */
        size_t n = 0;
        while (old && old[n])
                n++;
        v = calloc(n + 6, sizeof(*v));
        if (!v)
                return wh_fail(err, ENOMEM, "--init");
        size_t k = 0;
        const char *head[] = {WH_INIT_PATH, "-g", "--seccomp", WH_SECCOMP_BPF_PATH, "--"};
        for (size_t i = 0; i < ARRAY_SIZE(head); i++) {
                if (!o->seccomp && (i == 2 || i == 3))
                        continue;
                if (!(v[k++] = strdup(head[i])))
                        return wh_fail(err, ENOMEM, "--init");
        }
        for (size_t i = 0; i < n; i++)
                if (!(v[k++] = strdup(old[i])))
                        return wh_fail(err, ENOMEM, "--init");
        wh_strv_free(eff->entrypoint);
        eff->entrypoint = TAKE_PTR(v);
        return 0;
}

int wh_inject_prepare(struct wh_inject *st, const struct wh_inject_opts *o,
                      json_object *config, const struct wh_profile *profile,
                      struct wh_effective *eff, struct wh_err *err)
{
        if (!o->init && !o->seccomp)
                return 0;
        json_object *a = NULL;
        const char *arch =
                "amd64"; /* what the output config says when the source is silent */
        if (config && json_object_object_get_ex(config, "architecture", &a) &&
            json_object_is_type(a, json_type_string))
                arch = json_object_get_string(a);
        int r;
        if (o->init && (r = check_init(st, arch, err)) < 0)
                return r;
        if (o->seccomp && (r = compile_filter(st, o, arch, profile, err)) < 0)
                return r;
        if (o->init && (r = wrap_entrypoint(o, eff, err)) < 0)
                return r;
        return 0;
}

/* As the closure does: the listing and the report show why each directory stays. */
static int keep_parents(struct wh_index *idx, const char *path, struct wh_err *err)
{
        char why[4200];
        snprintf(why, sizeof(why), "parent of /%s", path);
        const char *reason = wh_index_intern(idx, why);
        if (!reason)
                return wh_fail(err, ENOMEM, "/%s", path);
        wh_index_keep_parents(idx, path, reason);
        return 0;
}

static int put_file(struct wh_index *idx, const char *path, uint32_t mode, const void *data,
                    size_t len, const char *reason, struct wh_spool *sp, int64_t epoch,
                    struct wh_closure_stats *stats, struct wh_err *err)
{
        struct wh_entry *e = wh_entry_new(path, WH_F_REG);
        if (!e)
                return wh_fail(err, ENOMEM, "/%s", path);
        e->mode = mode;
        e->size = len;
        e->mtime = epoch;
        /* Past every layer: pass 2 must never look for it in the source. */
        e->layer = UINT32_MAX;
        e->keep_reason = wh_index_intern(idx, reason);
        if (!e->keep_reason) {
                wh_entry_free(e);
                return wh_fail(err, ENOMEM, "/%s", path);
        }
        int r = wh_index_put(idx, e, err);
        if (r < 0) {
                wh_entry_free(e);
                return wh_fail_ctx(err, r, "add '/%s'", path);
        }
        if ((r = keep_parents(idx, path, err)) < 0)
                return r;
        if (sp && (r = wh_spool_add_bytes(sp, e, data, len, err)) < 0)
                return r;
        if (stats) {
                stats->kept_files++;
                stats->kept_bytes += len;
        }
        return 0;
}

int wh_inject_put(struct wh_inject *st, struct wh_index *idx, struct wh_spool *sp,
                  int64_t epoch, struct wh_closure_stats *stats, struct wh_err *err)
{
        int r;
        if (st->init_data &&
            (r = put_file(idx, WH_INIT_PATH + 1, 0755, st->init_data, st->init_len,
                          "--init", sp, epoch, stats, err)) < 0)
                return r;
        if (st->bpf.prog &&
            (r = put_file(idx, WH_SECCOMP_BPF_PATH + 1, 0644, st->bpf.prog, st->bpf.len,
                          st->bpf_reason, sp, epoch, stats, err)) < 0)
                return r;
        return 0;
}

void wh_inject_release(struct wh_inject *st)
{
        free(st->init_data);
        free(st->init_from);
        wh_bpf_release(&st->bpf);
        free(st->bpf_reason);
        *st = (struct wh_inject){0};
}
