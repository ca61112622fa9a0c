/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * SHA-256 for content addresses ("sha256:<64 hex>"). Backed by libcrypto;
 * only programs that hash link it (the object is pulled from libcommon.a
 * on use).
 */
#include <stddef.h>
#include <stdint.h>

#define WH_SHA256_HEX 64
#define WH_DIGEST_STR (7 + WH_SHA256_HEX + 1) /* "sha256:" + hex + NUL */

struct wh_sha256; /* opaque */

/* Returns NULL on allocation failure. Caller owns; free with _free. */
struct wh_sha256 *wh_sha256_new(void);
struct wh_sha256 *wh_sha256_free(struct wh_sha256 *h);
void wh_sha256_update(struct wh_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (WH_DIGEST_STR bytes) and resets h. */
void wh_sha256_final(struct wh_sha256 *h, char out[WH_DIGEST_STR]);
/* One-shot helper. */
void wh_sha256_digest(const void *data, size_t len, char out[WH_DIGEST_STR]);

/* 1 when s is "sha256:" followed by exactly 64 lowercase hex digits. */
int wh_digest_valid(const char *s);
/* The hex part of a valid digest. */
const char *wh_digest_hex(const char *digest);

static inline void wh_sha256_freep(struct wh_sha256 **h)
{
        wh_sha256_free(*h);
}
#define _cleanup_sha256_ __attribute__((cleanup(wh_sha256_freep)))
