/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whittle-run's allocator for its musl build (runtime/musl/malloc.c),
 * compiled here under other names so it runs beside the C library's own
 * (and under ASan): alignment, zeroing, in-place growth of the newest
 * block, reuse of a freed newest block, big blocks, overflow checks.
 */
#include <stddef.h>
/* stdlib.h, read before the renames, declared these under their own names. */
void *bump_aligned_alloc(size_t align, size_t n);
int bump_posix_memalign(void **ret, size_t align, size_t n);

#define malloc             bump_malloc
#define free               bump_free
#define calloc             bump_calloc
#define realloc            bump_realloc
#define aligned_alloc      bump_aligned_alloc
#define posix_memalign     bump_posix_memalign
#define memalign           bump_memalign
#define malloc_usable_size bump_malloc_usable_size
#include "../../runtime/musl/malloc.c"
#undef malloc
#undef free
#undef calloc
#undef realloc
#undef aligned_alloc
#undef posix_memalign
#undef memalign
#undef malloc_usable_size

#include "tap.h"

static void test_basics(void)
{
        char *a = bump_malloc(1), *b = bump_malloc(17), *c = bump_malloc(0);
        ok(a && b && c, "small blocks, including size 0");
        ok(((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) % 16 == 0, "16-byte aligned");
        ok(b >= a + 16 && c >= b + 32, "blocks do not overlap");
        is_int((long)bump_malloc_usable_size(b), 32, "usable size is rounded up to 16");
        memset(a, 0xaa, 1);
        memset(b, 0xbb, 17);
        ok(a[0] == (char)0xaa && b[16] == (char)0xbb, "writes stay in their blocks");
        char *d = bump_malloc(16);
        bump_free(NULL);
        bump_free(d);
        ok(bump_malloc(16) == d, "free(NULL) leaves the newest block to be given back");
}

static void test_newest_reused(void)
{
        char *a = bump_malloc(64);
        memset(a, 0x55, 64);
        bump_free(a);
        char *b = bump_calloc(4, 16);
        ok(b == a, "the newest block, freed, is handed out again");
        int zero = 1;
        for (int i = 0; i < 64; i++)
                zero &= b[i] == 0;
        ok(zero, "calloc zeroes a reused block");
        char *c = bump_malloc(16);
        bump_free(b); /* not the newest: kept */
        char *d = bump_malloc(16);
        ok(d != b && d != c, "an older freed block is not reused");
}

static void test_realloc(void)
{
        char *a = bump_malloc(16);
        memcpy(a, "0123456789abcde", 16);
        char *b = bump_realloc(a, 4000);
        ok(b == a, "the newest block grows in place");
        ok(!memcmp(b, "0123456789abcde", 16), "its contents stay");
        char *other = bump_malloc(8);
        char *c = bump_realloc(b, 8000);
        ok(c && c != b && !memcmp(c, "0123456789abcde", 16),
           "an older block moves, contents copied");
        ok(bump_realloc(c, 10) == c, "shrinking keeps the block");
        ok(bump_realloc(NULL, 5) != NULL, "realloc(NULL) allocates");
        (void)other;
}

static void test_big_and_chunks(void)
{
        char *big = bump_malloc(BIG);
        ok(big && (uintptr_t)big % 16 == 0, "a big block gets a mapping of its own");
        memset(big, 1, BIG);
        char *grown = bump_realloc(big, 2 * BIG);
        ok(grown && grown[BIG - 1] == 1, "a big block grows by moving");
        bump_free(grown);
        /* Three chunks' worth of small blocks: each follows the last
         * (header + 1008 bytes) except where a new chunk starts. */
        int fine = 1, jumps = 0;
        char *prev = NULL;
        for (size_t i = 0; i < 3 * CHUNK / 1000; i++) {
                char *p = bump_malloc(1000);
                fine &= p != NULL;
                if (!p)
                        break;
                p[999] = 1;
                jumps += prev && p != prev + 1008 + sizeof(struct head);
                prev = p;
        }
        ok(fine && jumps >= 2, "new chunks are mapped as needed (%d)", jumps);
}

static void test_limits(void)
{
        errno = 0;
        /* volatile: the compiler must not see the absurd size it is asked for on purpose. */
        volatile size_t huge = SIZE_MAX;
        ok(bump_malloc(huge) == NULL && errno == ENOMEM, "SIZE_MAX: ENOMEM");
        errno = 0;
        volatile size_t half = SIZE_MAX / 2;
        ok(bump_calloc(half, 4) == NULL && errno == ENOMEM,
           "calloc overflow: ENOMEM");
        void *p = NULL;
        ok(bump_posix_memalign(&p, 64, 10) == EINVAL && p == NULL,
           "alignment above 16 is refused, not faked");
        ok(bump_posix_memalign(&p, 16, 10) == 0 && p, "alignment 16 is fine");
}

int main(void)
{
        test_basics();
        test_newest_reused();
        test_realloc();
        test_big_and_chunks();
        test_limits();
        return done_testing();
}
