/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* whittle-init's two halves: the parent (init_main.c) and the child's path
 * from fork to exec (init_child.c). */
#include "init_sys.h"

/* What the child needs to reach exec; filled by the parent before fork. */
struct wi_plan {
        char **argv;
        char **envp;
        wi_sigset orig_mask; /* the mask whittle-init started with */
        unsigned bpf_len;    /* instructions read by wi_bpf_read, 0 for none */
        int ready_fd;        /* where the pre-exec stamp goes, or -1 */
        int tty;             /* stdin is a terminal: take the foreground */
};

/*
 * Reads a raw BPF program (struct sock_filter[], as seccomp_export_bpf
 * writes it) into a static buffer. -EINVAL when the size is not a whole
 * number of instructions or the last one is not a return, -EFBIG past 4096.
 */
int wi_bpf_read(const char *path, unsigned *ret_len);

/* Never returns: execs the program or exits 127 (not found) / 126. */
__attribute__((noreturn)) void wi_child_run(const struct wi_plan *p);
