/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whittle-run's allocator in its musl build (musl lets a static program
 * replace malloc). whittle-run lives for one command: milliseconds, a few
 * hundred KiB in small blocks, most of them json-c's while it parses
 * config.json. musl's own allocator hands memory back to the kernel
 * eagerly (munmap, madvise: a TLB shoot-down IPI each in a VM), and with it
 * parsing the default config.json took ~130 us here against ~35 us with
 * glibc's.
 *
 * This one carves blocks out of 1 MiB anonymous mappings and keeps them:
 * free() gives back only the newest block of the current chunk (the common
 * pattern of a temporary), realloc() grows that block in place, and blocks
 * of 256 KiB and more get mappings of their own that free() unmaps. A
 * spinlock guards it: the runtime's only other thread (the network
 * namespace maker) does not allocate, so it is never contended.
 */
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK (1u << 20)
#define BIG (256u << 10)
#define ALIGN 16u

/* Every block starts with its size; the user's pointer follows, 16-aligned. */
struct head {
        size_t size; /* usable bytes */
        size_t big;  /* 1: a mapping of its own (size + header) */
};
_Static_assert(sizeof(struct head) == ALIGN, "header keeps 16-byte alignment");

static atomic_flag lock = ATOMIC_FLAG_INIT;
static char *cur, *end; /* free space of the current chunk */
static struct head *last; /* newest block of the current chunk */

static void take(void)
{
        while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
                ;
}

static void give(void)
{
        atomic_flag_clear_explicit(&lock, memory_order_release);
}

static size_t round_up(size_t n)
{
        return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static void *map(size_t n)
{
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

/* Named apart from malloc: the compiler turns malloc() + memset() into a
 * calloc() call, which here would call itself. */
static void *carve(size_t n)
{
        if (n > SIZE_MAX / 2) {
                errno = ENOMEM;
                return NULL;
        }
        size_t need = round_up(n ? n : 1);
        if (need >= BIG) {
                struct head *h = map(need + sizeof(*h));
                if (!h) {
                        errno = ENOMEM;
                        return NULL;
                }
                *h = (struct head){ .size = need, .big = 1 };
                return h + 1;
        }
        take();
        if (!cur || (size_t)(end - cur) < need + sizeof(struct head)) {
                char *c = map(CHUNK);
                if (!c) {
                        give();
                        errno = ENOMEM;
                        return NULL;
                }
                cur = c;
                end = c + CHUNK;
                last = NULL;
        }
        struct head *h = (struct head *)cur;
        *h = (struct head){ .size = need, .big = 0 };
        cur += sizeof(*h) + need;
        last = h;
        give();
        return h + 1;
}

void *malloc(size_t n)
{
        return carve(n);
}

void free(void *p)
{
        if (!p)
                return;
        struct head *h = (struct head *)p - 1;
        if (h->big) {
                munmap(h, h->size + sizeof(*h));
                return;
        }
        take();
        if (h == last) {
                cur = (char *)h;
                last = NULL;
        }
        give();
}

void *calloc(size_t n, size_t size)
{
        if (size && n > SIZE_MAX / size) {
                errno = ENOMEM;
                return NULL;
        }
        /* Fresh chunk memory is zero, but a block given back and taken
         * again is not. */
        void *p = carve(n * size);
        if (p)
                memset(p, 0, n * size);
        return p;
}

void *realloc(void *p, size_t n)
{
        if (!p)
                return carve(n);
        struct head *h = (struct head *)p - 1;
        size_t need = round_up(n ? n : 1);
        if (need <= h->size)
                return p;
        if (!h->big && need < BIG) {
                take();
                if (h == last && (size_t)(end - (char *)p) >= need) {
                        h->size = need;
                        cur = (char *)p + need;
                        give();
                        return p;
                }
                give();
        }
        void *q = carve(n);
        if (!q)
                return NULL;
        memcpy(q, p, h->size);
        free(p);
        return q;
}

void *aligned_alloc(size_t align, size_t n)
{
        if (align <= ALIGN)
                return carve(n);
        /* Not used by whittle-run or its libraries; refuse rather than
         * hand out a misaligned block. */
        errno = EINVAL;
        return NULL;
}

int posix_memalign(void **ret, size_t align, size_t n)
{
        void *p = aligned_alloc(align, n);
        if (!p)
                return errno;
        *ret = p;
        return 0;
}

void *memalign(size_t align, size_t n)
{
        return aligned_alloc(align, n);
}

size_t malloc_usable_size(void *p)
{
        return p ? ((struct head *)p - 1)->size : 0;
}
