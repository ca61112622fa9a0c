/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkbpf: writes a raw seccomp BPF program for tests of whittle-init
 * --seccomp. Default action allow; each named syscall gets ERRNO(e).
 *
 *   mkbpf [--errno N] [--kill] OUT SYSCALL...
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "parse_num.h"

static void ctx_releasep(scmp_filter_ctx *c)
{
        if (*c)
                seccomp_release(*c);
}

int main(int argc, char **argv)
{
        int e = EPERM, kill = 0, i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "--errno") == 0 && i + 1 < argc) {
                        if (wh_parse_int(argv[++i], 0, 4095, &e) < 0) {
                                fprintf(stderr, "mkbpf: bad errno '%s'\n", argv[i]);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--kill") == 0) {
                        kill = 1;
                } else {
                        fprintf(stderr,
                                "usage: mkbpf [--errno N] [--kill] OUT SYSCALL...\n");
                        return 2;
                }
        }
        if (i >= argc) {
                fprintf(stderr, "usage: mkbpf [--errno N] [--kill] OUT SYSCALL...\n");
                return 2;
        }
        const char *out = argv[i++];
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return 1;
        for (; i < argc; i++) {
                int nr = seccomp_syscall_resolve_name(argv[i]);
                if (nr == __NR_SCMP_ERROR) {
                        fprintf(stderr, "mkbpf: unknown syscall '%s'\n", argv[i]);
                        return 1;
                }
                int r = seccomp_rule_add(
                        ctx, kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(e), nr, 0);
                if (r < 0) {
                        fprintf(stderr, "mkbpf: rule for '%s': %s\n", argv[i],
                                strerror(-r));
                        return 1;
                }
        }
        _cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                fprintf(stderr, "mkbpf: open '%s': %s\n", out, strerror(errno));
                return 1;
        }
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0) {
                fprintf(stderr, "mkbpf: export: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
