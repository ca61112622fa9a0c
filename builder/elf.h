/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The ELF reader: just what the dynamic loader needs to find a program's
 * dependencies. The input is hostile: every offset and size is checked
 * against the buffer before use.
 */
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct wh_elf_info {
        uint8_t elf_class;   /* ELFCLASS32 / ELFCLASS64 */
        uint8_t data;        /* ELFDATA2LSB / ELFDATA2MSB */
        uint16_t machine;    /* e_machine */
        uint16_t type;       /* ET_EXEC / ET_DYN / ... */
        char *interp;        /* PT_INTERP, owned, or NULL (static) */
        char **needed;       /* DT_NEEDED, NULL-terminated, owned (may be empty) */
        char *rpath;         /* DT_RPATH, owned, or NULL */
        char *runpath;       /* DT_RUNPATH, owned, or NULL */
        char *soname;        /* DT_SONAME, owned, or NULL */
};

/* 1 if buf starts with the ELF magic. */
int wh_elf_is_elf(const void *buf, size_t len);

/*
 * Parses a whole ELF file held in buf. Files without a dynamic section
 * (static programs, relocatable objects) parse fine with no needed entries.
 * Caller owns *ret (wh_elf_info_free). -EINVAL with a message naming the
 * broken structure on malformed input.
 */
int wh_elf_parse(const void *buf, size_t len, struct wh_elf_info **ret, struct wh_err *err);

struct wh_elf_info *wh_elf_info_free(struct wh_elf_info *info);

/*
 * For streaming readers: how many leading bytes of the file wh_elf_parse
 * needs. Given the first len bytes, returns 0 when they suffice, or a byte
 * count (> len) to read before asking again (the dynamic section says where
 * its string table is, so the answer can grow once). Malformed headers also
 * return 0: wh_elf_parse then reports what is wrong.
 */
uint64_t wh_elf_bytes_needed(const void *buf, size_t len);

/* 1 if a library with info lib can satisfy a dependency of obj (class and machine match). */
int wh_elf_compatible(const struct wh_elf_info *obj, const struct wh_elf_info *lib);
