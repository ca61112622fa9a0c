/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ELF reader. Reads ELF32/ELF64 of either byte order straight from a
 * buffer: no mmap, no libelf, no host <elf.h> structure casts (the buffer
 * is unaligned and possibly foreign-endian). Every offset taken from the
 * file goes through span_ok() before a byte is read, so truncated or
 * hostile files end in -EINVAL with a message, never out of bounds.
 */
#include "elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "cleanup.h"

/*
 * Hard caps. Real programs have a dozen program headers and a few hundred
 * dynamic entries; anything past these is an attack on our memory.
 */
#define MAX_PHNUM  4096
#define MAX_DYN    65536
#define MAX_NEEDED 4096
/* wh_elf_bytes_needed never asks a streaming reader for more than this. */
#define MAX_HEADER_BYTES (64ull << 20)

struct reader {
        const uint8_t *buf;
        size_t len;
        int is64;
        int msb;
};

struct load_seg {
        uint64_t vaddr, offset, filesz;
};

/* The raw facts of the headers, before strings are read. */
struct layout {
        uint16_t type, machine;
        uint64_t phoff;
        uint16_t phentsize, phnum;
        uint64_t interp_off, interp_size; /* size 0: none */
        int has_interp;
        uint64_t dyn_off, dyn_size;
        int has_dyn;
        struct load_seg *loads;
        size_t n_loads;
};

static void layout_release(struct layout *l)
{
        free(l->loads);
        l->loads = NULL;
}

int wh_elf_is_elf(const void *buf, size_t len)
{
        return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

/* 1 if [off, off+size) lies inside the buffer. */
static int span_ok(const struct reader *r, uint64_t off, uint64_t size)
{
        uint64_t end;
        if (__builtin_add_overflow(off, size, &end))
                return 0;
        return end <= r->len;
}

static uint64_t rd(const struct reader *r, uint64_t off, unsigned width)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < width; i++) {
                unsigned shift = r->msb ? 8 * (width - 1 - i) : 8 * i;
                v |= (uint64_t)r->buf[off + i] << shift;
        }
        return v;
}

static uint16_t rd16(const struct reader *r, uint64_t off)
{
        return (uint16_t)rd(r, off, 2);
}

static uint32_t rd32(const struct reader *r, uint64_t off)
{
        return (uint32_t)rd(r, off, 4);
}

/* A word: 4 bytes in ELF32, 8 in ELF64. */
static uint64_t rdw(const struct reader *r, uint64_t off)
{
        return rd(r, off, r->is64 ? 8 : 4);
}

static int reader_init(struct reader *r, const void *buf, size_t len, struct wh_err *err)
{
        r->buf = buf;
        r->len = len;
        if (!wh_elf_is_elf(buf, len))
                return wh_failx(err, EINVAL, "not an ELF file");
        if (len < EI_NIDENT)
                return wh_failx(err, EINVAL, "ELF identification truncated");
        switch (r->buf[EI_CLASS]) {
        case ELFCLASS32:
                r->is64 = 0;
                break;
        case ELFCLASS64:
                r->is64 = 1;
                break;
        default:
                return wh_failx(err, EINVAL, "ELF class %u unknown", r->buf[EI_CLASS]);
        }
        switch (r->buf[EI_DATA]) {
        case ELFDATA2LSB:
                r->msb = 0;
                break;
        case ELFDATA2MSB:
                r->msb = 1;
                break;
        default:
                return wh_failx(err, EINVAL, "ELF data encoding %u unknown",
                                r->buf[EI_DATA]);
        }
        if (len < (r->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
                return wh_failx(err, EINVAL, "ELF header truncated (%zu bytes)", len);
        return 0;
}

static int read_ehdr(const struct reader *r, struct layout *l, struct wh_err *err)
{
        size_t min_phent = r->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

        /* e_type and e_machine sit at the same offsets in both classes. */
        l->type = rd16(r, 16);
        l->machine = rd16(r, 18);
        if (r->is64) {
                l->phoff = rdw(r, offsetof(Elf64_Ehdr, e_phoff));
                l->phentsize = rd16(r, offsetof(Elf64_Ehdr, e_phentsize));
                l->phnum = rd16(r, offsetof(Elf64_Ehdr, e_phnum));
        } else {
                l->phoff = rdw(r, offsetof(Elf32_Ehdr, e_phoff));
                l->phentsize = rd16(r, offsetof(Elf32_Ehdr, e_phentsize));
                l->phnum = rd16(r, offsetof(Elf32_Ehdr, e_phnum));
        }
        if (l->phnum == 0)
                return 0;
        if (l->phnum >= PN_XNUM || l->phnum > MAX_PHNUM)
                return wh_failx(err, EINVAL, "program header count %u unsupported",
                                l->phnum);
        if (l->phentsize < min_phent)
                return wh_failx(err, EINVAL, "program header entry size %u too small",
                                l->phentsize);
        return 0;
}

/* Where the whole program header table ends (offset), or 0 on overflow. */
static uint64_t phdrs_end(const struct layout *l)
{
        uint64_t size, end;
        if (__builtin_mul_overflow((uint64_t)l->phentsize, (uint64_t)l->phnum, &size) ||
            __builtin_add_overflow(l->phoff, size, &end))
                return 0;
        return end;
}

static int read_phdrs(const struct reader *r, struct layout *l, struct wh_err *err)
{
        if (l->phnum == 0)
                return 0;
        uint64_t end = phdrs_end(l);
        if (end == 0 || end > r->len)
                return wh_failx(err, EINVAL, "program headers at %#llx outside the file",
                                (unsigned long long)l->phoff);
        l->loads = calloc(l->phnum, sizeof(*l->loads));
        if (!l->loads)
                return wh_fail(err, ENOMEM, "program headers");
        for (unsigned i = 0; i < l->phnum; i++) {
                uint64_t p = l->phoff + (uint64_t)i * l->phentsize;
                uint32_t type = rd32(r, p);
                uint64_t off, vaddr, filesz;
                if (r->is64) {
                        off = rdw(r, p + offsetof(Elf64_Phdr, p_offset));
                        vaddr = rdw(r, p + offsetof(Elf64_Phdr, p_vaddr));
                        filesz = rdw(r, p + offsetof(Elf64_Phdr, p_filesz));
                } else {
                        off = rdw(r, p + offsetof(Elf32_Phdr, p_offset));
                        vaddr = rdw(r, p + offsetof(Elf32_Phdr, p_vaddr));
                        filesz = rdw(r, p + offsetof(Elf32_Phdr, p_filesz));
                }
                if (type == PT_LOAD) {
                        l->loads[l->n_loads++] = (struct load_seg){vaddr, off, filesz};
                } else if (type == PT_INTERP && !l->has_interp) {
                        l->has_interp = 1;
                        l->interp_off = off;
                        l->interp_size = filesz;
                } else if (type == PT_DYNAMIC && !l->has_dyn) {
                        l->has_dyn = 1;
                        l->dyn_off = off;
                        l->dyn_size = filesz;
                }
        }
        return 0;
}

static int parse_layout(const struct reader *r, struct layout *l, struct wh_err *err)
{
        int k = read_ehdr(r, l, err);
        if (k < 0)
                return k;
        return read_phdrs(r, l, err);
}

/* Maps a virtual address to a file offset through the PT_LOAD segments. */
static int vaddr_to_off(const struct layout *l, uint64_t vaddr, uint64_t *ret)
{
        for (size_t i = 0; i < l->n_loads; i++) {
                const struct load_seg *s = &l->loads[i];
                uint64_t end;
                if (__builtin_add_overflow(s->vaddr, s->filesz, &end))
                        continue;
                if (vaddr >= s->vaddr && vaddr < end) {
                        if (__builtin_add_overflow(s->offset, vaddr - s->vaddr, ret))
                                return -EINVAL;
                        return 0;
                }
        }
        return -EINVAL;
}

/* The dynamic entries that name strings, still as string table offsets. */
struct dyn_refs {
        uint64_t strtab_vaddr, strsz;
        int has_strtab, has_strsz;
        uint64_t *needed;
        size_t n_needed;
        uint64_t rpath, runpath, soname;
        int has_rpath, has_runpath, has_soname;
};

static int read_dynamic(const struct reader *r, const struct layout *l, struct dyn_refs *d,
                        struct wh_err *err)
{
        unsigned entsz = r->is64 ? 16 : 8, w = r->is64 ? 8 : 4;
        if (!span_ok(r, l->dyn_off, l->dyn_size))
                return wh_failx(
                        err, EINVAL, "dynamic section at %#llx+%#llx outside the file",
                        (unsigned long long)l->dyn_off, (unsigned long long)l->dyn_size);
        uint64_t count = l->dyn_size / entsz;
        if (count > MAX_DYN)
                return wh_failx(err, EINVAL, "dynamic section has %llu entries",
                                (unsigned long long)count);
        for (uint64_t i = 0; i < count; i++) {
                uint64_t p = l->dyn_off + i * entsz;
                uint64_t tag = rdw(r, p), val = rdw(r, p + w);
                if (tag == DT_NULL)
                        break;
                switch (tag) {
                case DT_STRTAB:
                        d->strtab_vaddr = val;
                        d->has_strtab = 1;
                        break;
                case DT_STRSZ:
                        d->strsz = val;
                        d->has_strsz = 1;
                        break;
                case DT_RPATH:
                        d->rpath = val;
                        d->has_rpath = 1;
                        break;
                case DT_RUNPATH:
                        d->runpath = val;
                        d->has_runpath = 1;
                        break;
                case DT_SONAME:
                        d->soname = val;
                        d->has_soname = 1;
                        break;
                case DT_NEEDED:
                        if (d->n_needed >= MAX_NEEDED)
                                return wh_failx(err, EINVAL,
                                                "more than %d DT_NEEDED entries",
                                                MAX_NEEDED);
                        if (!d->needed) {
                                d->needed = calloc(count, sizeof(*d->needed));
                                if (!d->needed)
                                        return wh_fail(err, ENOMEM, "dynamic section");
                        }
                        d->needed[d->n_needed++] = val;
                        break;
                default:
                        break;
                }
        }
        return 0;
}

struct strtab {
        const char *base;
        uint64_t size;
};

static int locate_strtab(const struct reader *r, const struct layout *l,
                         const struct dyn_refs *d, struct strtab *st, struct wh_err *err)
{
        uint64_t off;
        if (!d->has_strtab || !d->has_strsz)
                return wh_failx(err, EINVAL, "dynamic section without DT_STRTAB/DT_STRSZ");
        if (vaddr_to_off(l, d->strtab_vaddr, &off) < 0)
                return wh_failx(err, EINVAL, "DT_STRTAB %#llx not in any PT_LOAD segment",
                                (unsigned long long)d->strtab_vaddr);
        if (!span_ok(r, off, d->strsz))
                return wh_failx(err, EINVAL, "string table at %#llx+%#llx outside the file",
                                (unsigned long long)off, (unsigned long long)d->strsz);
        st->base = (const char *)r->buf + off;
        st->size = d->strsz;
        return 0;
}

static int strtab_dup(const struct strtab *st, uint64_t idx, const char *what, char **ret,
                      struct wh_err *err)
{
        if (idx >= st->size)
                return wh_failx(err, EINVAL, "%s string offset %#llx past DT_STRSZ", what,
                                (unsigned long long)idx);
        const char *s = st->base + idx;
        const char *nul = memchr(s, '\0', st->size - idx);
        if (!nul)
                return wh_failx(err, EINVAL, "%s string not terminated", what);
        *ret = strndup(s, (size_t)(nul - s));
        if (!*ret)
                return wh_fail(err, ENOMEM, "%s", what);
        return 0;
}

static int read_strings(const struct strtab *st, const struct dyn_refs *d,
                        struct wh_elf_info *info, struct wh_err *err)
{
        int k;
        info->needed = calloc(d->n_needed + 1, sizeof(char *));
        if (!info->needed)
                return wh_fail(err, ENOMEM, "DT_NEEDED");
        for (size_t i = 0; i < d->n_needed; i++) {
                k = strtab_dup(st, d->needed[i], "DT_NEEDED", &info->needed[i], err);
                if (k < 0)
                        return k;
        }
        if (d->has_rpath &&
            (k = strtab_dup(st, d->rpath, "DT_RPATH", &info->rpath, err)) < 0)
                return k;
        if (d->has_runpath &&
            (k = strtab_dup(st, d->runpath, "DT_RUNPATH", &info->runpath, err)) < 0)
                return k;
        if (d->has_soname &&
            (k = strtab_dup(st, d->soname, "DT_SONAME", &info->soname, err)) < 0)
                return k;
        return 0;
}

static int read_interp(const struct reader *r, const struct layout *l,
                       struct wh_elf_info *info, struct wh_err *err)
{
        if (!span_ok(r, l->interp_off, l->interp_size))
                return wh_failx(err, EINVAL, "PT_INTERP at %#llx+%#llx outside the file",
                                (unsigned long long)l->interp_off,
                                (unsigned long long)l->interp_size);
        const char *s = (const char *)r->buf + l->interp_off;
        const char *nul = memchr(s, '\0', l->interp_size);
        if (!nul)
                return wh_failx(err, EINVAL, "PT_INTERP not terminated");
        if (nul == s)
                return wh_failx(err, EINVAL, "PT_INTERP empty");
        info->interp = strndup(s, (size_t)(nul - s));
        if (!info->interp)
                return wh_fail(err, ENOMEM, "PT_INTERP");
        return 0;
}

static int parse_dynamic(const struct reader *r, const struct layout *l,
                         struct wh_elf_info *info, struct wh_err *err)
{
        struct dyn_refs d = {0};
        struct strtab st = {0};
        int k = read_dynamic(r, l, &d, err);
        int any = d.n_needed || d.has_rpath || d.has_runpath || d.has_soname;
        /* A dynamic section that names no strings needs no string table. */
        if (k >= 0 && any)
                k = locate_strtab(r, l, &d, &st, err);
        if (k >= 0 && any)
                k = read_strings(&st, &d, info, err);
        free(d.needed);
        return k;
}

int wh_elf_parse(const void *buf, size_t len, struct wh_elf_info **ret, struct wh_err *err)
{
        struct reader r;
        struct layout l = {0};
        struct wh_elf_info *info = NULL;
        int k = reader_init(&r, buf, len, err);
        if (k < 0)
                return k;
        info = calloc(1, sizeof(*info));
        if (!info)
                return wh_fail(err, ENOMEM, "ELF info");
        info->elf_class = r.is64 ? ELFCLASS64 : ELFCLASS32;
        info->data = r.msb ? ELFDATA2MSB : ELFDATA2LSB;
        k = parse_layout(&r, &l, err);
        if (k >= 0)
                info->type = l.type, info->machine = l.machine;
        if (k >= 0 && l.has_interp)
                k = read_interp(&r, &l, info, err);
        if (k >= 0 && l.has_dyn)
                k = parse_dynamic(&r, &l, info, err);
        if (k >= 0 && !info->needed) {
                info->needed = calloc(1, sizeof(char *));
                if (!info->needed)
                        k = wh_fail(err, ENOMEM, "ELF info");
        }
        layout_release(&l);
        if (k < 0) {
                wh_elf_info_free(info);
                return k;
        }
        *ret = info;
        return 0;
}

struct wh_elf_info *wh_elf_info_free(struct wh_elf_info *info)
{
        if (!info)
                return NULL;
        free(info->interp);
        wh_strv_free(info->needed);
        free(info->rpath);
        free(info->runpath);
        free(info->soname);
        free(info);
        return NULL;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

/* The end of the segment [off, off+size), or UINT64_MAX on overflow. */
static uint64_t seg_end(uint64_t off, uint64_t size)
{
        uint64_t end;
        return __builtin_add_overflow(off, size, &end) ? UINT64_MAX : end;
}

/*
 * Grows the answer in three steps as the prefix reveals more: the ELF
 * header, then the program headers, then PT_INTERP/PT_DYNAMIC, then the
 * string table the dynamic section points at.
 */
uint64_t wh_elf_bytes_needed(const void *buf, size_t len)
{
        struct reader r = {.buf = buf, .len = len};
        struct layout l = {0};
        uint64_t need;

        if (len < SELFMAG)
                return SELFMAG;
        if (!wh_elf_is_elf(buf, len))
                return 0;
        if (len < EI_NIDENT)
                return sizeof(Elf64_Ehdr);
        need = ((const uint8_t *)buf)[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr)
                                                              : sizeof(Elf32_Ehdr);
        if (len < need)
                return need;
        if (reader_init(&r, buf, len, NULL) < 0)
                return 0;
        if (read_ehdr(&r, &l, NULL) < 0 || l.phnum == 0)
                return 0;
        need = phdrs_end(&l);
        if (need == 0 || need > MAX_HEADER_BYTES)
                return 0;
        if (need > len)
                return need;
        if (read_phdrs(&r, &l, NULL) < 0) {
                layout_release(&l);
                return 0;
        }
        need = 0;
        if (l.has_interp)
                need = max_u64(need, seg_end(l.interp_off, l.interp_size));
        if (l.has_dyn)
                need = max_u64(need, seg_end(l.dyn_off, l.dyn_size));
        if (need > len) {
                layout_release(&l);
                return need > MAX_HEADER_BYTES ? 0 : need;
        }
        need = 0;
        if (l.has_dyn) {
                struct dyn_refs d = {0};
                uint64_t off;
                if (read_dynamic(&r, &l, &d, NULL) >= 0 && d.has_strtab && d.has_strsz &&
                    vaddr_to_off(&l, d.strtab_vaddr, &off) >= 0)
                        need = seg_end(off, d.strsz);
                free(d.needed);
        }
        layout_release(&l);
        if (need <= len || need > MAX_HEADER_BYTES)
                return 0;
        return need;
}

int wh_elf_compatible(const struct wh_elf_info *obj, const struct wh_elf_info *lib)
{
        return obj->elf_class == lib->elf_class && obj->data == lib->data &&
               obj->machine == lib->machine;
}
