/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The benchmark plan and its execution: which variants exist (image x
 * runtime x init x rootfs preparation), the images they need (pushed once to
 * the loopback registry), and one measured run of a variant, cold or warm.
 */
#include <stdint.h>

#include "bench_container.h"
#include "bench_image.h"
#include "bench_registry.h"
#include "bench_report.h"
#include "bench_store.h"

enum bench_init {
        BENCH_INIT_WHITTLE,
        BENCH_INIT_TINI,
        BENCH_INIT_DUMB,
        BENCH_INIT_NONE,
};

const char *bench_init_name(enum bench_init i);

/* An image as the registry serves it. */
struct bench_src {
        const char *key;    /* "al2", "al2023-gzip", ... */
        const char *sample; /* what it is, for the report */
        char *ref;          /* the local source, oci:DIR:REF */
        const char *repo;   /* name:tag in the registry */
        /* Images whittle-bench builds with whittle build: */
        const char *comp; /* zstd or gzip; NULL: a sample, not built */
        int service;      /* from the compiled service, else from the Python workload */
        int used;
        struct bench_image reg; /* as pulled from the registry once, after the push */
        int64_t bytes_fetched;
        char *probe_dir;
};

struct bench_variant {
        const char *name;
        const char *description;
        const char *src_key;
        const char *runtime;
        enum bench_init init;
        enum bench_rootfs rootfs;
        int quick; /* part of --quick */
        /* filled in by the runner */
        int selected;
        struct bench_src *src;
        const struct bench_runtime *rt;
        char *dir; /* work/v/NAME: image/, store/, bundle/ */
        struct bench_image img;
        int img_loaded;
        int warm_ready;
        struct bench_result res;
};

struct bench_ctx {
        char *top;       /* source tree (for samples) */
        char *bindir;    /* whittle, whittle-run, whittle-init */
        char *work;      /* scratch, removed at the end */
        char *tools_dir; /* inits bind-mounted at /.bench */
        char *wrun_path; /* the copy of whittle-run that runs */
        const char *profile;      /* of the whittled Python images */
        const char *whittle_from; /* source of the whittled Python images */
        char *service_from;       /* source of the whittled service image (owned) */
        const char *ready_line;
        int timeout_ms;
        int registry_timeout_ms;
        int image_has_init; /* whittled images carry /whittle-init (whittle build --init) */
        unsigned seq;       /* container ids */
        struct bench_registry reg;
        struct bench_runtime runtimes[3];
        char *rt_roots[3];
        struct bench_src *srcs;
        size_t n_srcs;
        struct bench_variant *vars;
        size_t n_vars;
        int quiet;
};

/* The variant table, in report order; the runner owns a copy. */
extern const struct bench_variant bench_variants[];
extern const size_t bench_n_variants;

/* Sets up ctx->srcs/vars (copies), runtimes and the work dir; selects variants. */
int bench_ctx_init(struct bench_ctx *ctx, const char *work_parent, int quick,
                   const char *only, struct wh_err *err);
/* Sets the local source reference of an image key (overrides the default sample). */
int bench_ctx_set_src(struct bench_ctx *ctx, const char *key, const char *ref,
                      struct wh_err *err);

/* Checks the tools, builds the whittled images, starts the registry and pushes. */
int bench_prepare(struct bench_ctx *ctx, struct wh_err *err);

/* One measured run. */
int bench_run_once(struct bench_ctx *ctx, struct bench_variant *v, int cold,
                   struct bench_sample *ret, struct wh_err *err);

/* Pulls and unpacks a variant's image for warm runs and counts its files. */
int bench_warm_prepare(struct bench_ctx *ctx, struct bench_variant *v, struct wh_err *err);

/* Stops the registry, unmounts and removes everything. Always safe to call. */
void bench_ctx_cleanup(struct bench_ctx *ctx, int keep_work);
