/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The dynamic loader's library search, replayed on the file index: the
 * order glibc's ld.so uses (DT_RPATH of the object and of the program,
 * LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.conf, the default directories),
 * with $ORIGIN/$LIB/$PLATFORM substitution and glibc-hwcaps variants.
 */
#include "elf.h"
#include "err.h"
#include "index.h"

struct wh_ldso;

/*
 * Reads the image's /etc/ld.so.conf (and its includes) from idx;
 * ld_library_path is the image's LD_LIBRARY_PATH value or NULL. Caller
 * owns *ret; idx must outlive it.
 */
int wh_ldso_new(struct wh_index *idx, const char *ld_library_path, struct wh_ldso **ret,
                struct wh_err *err);
struct wh_ldso *wh_ldso_free(struct wh_ldso *l);

/* The ld.so.conf directories, in search order (cleaned, no leading '/'); borrowed. */
char **wh_ldso_conf_dirs(const struct wh_ldso *l);

struct wh_ldso_query {
        const char *name; /* a DT_NEEDED value */
        const struct wh_entry
                *obj; /* object that needs it (RPATH, RUNPATH, $ORIGIN); may be NULL */
        const struct wh_entry *exe; /* program whose DT_RPATH also applies; may be NULL */
        const struct wh_elf_info
                *abi; /* class/machine a candidate must have; NULL: any ELF */
};

/*
 * Finds q->name. On success (1) *ret_path is the path as the loader
 * would open it ("/usr/lib64/libc.so.6", before symlinks; caller owns) and
 * *ret_variants (caller owns, may be empty) the glibc-hwcaps variants in
 * the same directory. 0 when not found, -ENOMEM.
 */
int wh_ldso_find(const struct wh_ldso *l, const struct wh_ldso_query *q, char **ret_path,
                 char ***ret_variants);

/* The Debian multiarch triplet for abi ("x86_64-linux-gnu"), or NULL. */
const char *wh_ldso_triplet(const struct wh_elf_info *abi);
