/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The parts of an OCI image layout the harness needs: the layers (digest,
 * media type, size) and the process the image starts (entrypoint, cmd, env,
 * working directory).
 */
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sha256.h"

enum bench_comp {
        BENCH_COMP_NONE,
        BENCH_COMP_GZIP,
        BENCH_COMP_ZSTD,
};

struct bench_layer {
        char digest[WH_DIGEST_STR];
        enum bench_comp comp;
        int64_t size;
};

struct bench_image {
        char manifest_digest[WH_DIGEST_STR];
        char config_digest[WH_DIGEST_STR];
        size_t n_layers;
        struct bench_layer *layers;
        char **entrypoint; /* NULL-terminated, or NULL */
        char **cmd;
        char **env;
        char *workdir;
        int64_t compressed_bytes; /* sum of layer sizes */
};

/* Frees what the image holds and zeroes it. */
void bench_image_release(struct bench_image *img);

/*
 * Loads oci layout dir with the manifest named ref (index.json's
 * org.opencontainers.image.ref.name; NULL: the only manifest). Caller
 * releases *ret.
 */
int bench_image_load(const char *dir, const char *ref, struct bench_image *ret,
                     struct wh_err *err);

/* The compression a layer media type says; -EINVAL for one that is not a layer. */
int bench_comp_from_media_type(const char *mt, enum bench_comp *ret);
const char *bench_comp_name(enum bench_comp c);

/*
 * Splits "oci:DIR[:REF]" into dir and ref (ref NULL when absent). Caller
 * owns both. -EINVAL for another transport.
 */
int bench_oci_ref_split(const char *ref, char **ret_dir, char **ret_ref);
