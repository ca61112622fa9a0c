/* SPDX-License-Identifier: Apache-2.0 */
#include "sha256.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct wh_sha256 {
        EVP_MD_CTX *ctx;
};

struct wh_sha256 *wh_sha256_new(void)
{
        struct wh_sha256 *h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
                EVP_MD_CTX_free(h->ctx);
                free(h);
                return NULL;
        }
        return h;
}

struct wh_sha256 *wh_sha256_free(struct wh_sha256 *h)
{
        if (h) {
                EVP_MD_CTX_free(h->ctx);
                free(h);
        }
        return NULL;
}

void wh_sha256_update(struct wh_sha256 *h, const void *data, size_t len)
{
        EVP_DigestUpdate(h->ctx, data, len);
}

static void to_digest(const unsigned char md[32], char out[WH_DIGEST_STR])
{
        static const char hex[] = "0123456789abcdef";
        memcpy(out, "sha256:", 7);
        for (int i = 0; i < 32; i++) {
                out[7 + 2 * i] = hex[md[i] >> 4];
                out[7 + 2 * i + 1] = hex[md[i] & 15];
        }
        out[WH_DIGEST_STR - 1] = '\0';
}

void wh_sha256_final(struct wh_sha256 *h, char out[WH_DIGEST_STR])
{
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(h->ctx, md, &n);
        to_digest(md, out);
        EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void wh_sha256_digest(const void *data, size_t len, char out[WH_DIGEST_STR])
{
        unsigned char md[32];
        unsigned int n = 0;
        EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
        to_digest(md, out);
}

int wh_digest_valid(const char *s)
{
        if (!s || strncmp(s, "sha256:", 7) != 0)
                return 0;
        s += 7;
        size_t n = 0;
        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return 0;
        return n == WH_SHA256_HEX;
}

const char *wh_digest_hex(const char *digest)
{
        return digest + 7;
}
