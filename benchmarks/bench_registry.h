/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The image source of the benchmark: Debian's docker-registry (distribution
 * 2.8) on 127.0.0.1 with a private config and storage directory, started and
 * stopped by the harness; images are pushed once with skopeo. Pulls go
 * through a small HTTP/1.1 client in the harness itself (the way an engine
 * daemon pulls: no process start on the measured path), which checks every
 * blob's sha256 and writes an OCI layout.
 */
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct bench_registry {
        pid_t pid; /* 0 when not running */
        int port;
        char *dir; /* config, storage and log live here */
        char *log; /* the registry's stderr */
};

/*
 * Starts the registry on a free loopback port with storage under workdir.
 * Fails (killing it) when /v2/ does not answer within timeout_ms.
 */
int bench_registry_start(struct bench_registry *reg, const char *workdir, int timeout_ms,
                         struct wh_err *err);
/* Stops it (SIGTERM, then SIGKILL after 3 s) and frees the struct's strings. Idempotent. */
void bench_registry_stop(struct bench_registry *reg);

/* skopeo copy SRC (any skopeo reference) to docker://127.0.0.1:PORT/NAME. */
int bench_registry_push(const struct bench_registry *reg, const char *src, const char *name,
                        struct wh_err *err);

/* GET /v2/ once: wakes the registry after a page-cache drop, outside the measured path. */
int bench_registry_ping(int port, struct wh_err *err);

/*
 * The storage path of a blob in the registry's filesystem driver, so a cold
 * run can re-read the server side into the page cache (a remote registry's
 * cache is not ours to drop). Caller owns.
 */
char *bench_registry_blob_path(const struct bench_registry *reg, const char *digest);

struct bench_fetch {
        int64_t bytes; /* manifest + config + layers */
        int blobs;
};

/*
 * Pulls NAME (repo:tag) into the OCI layout dir (created; must not hold
 * another image) as ref "bench", verifying digests.
 */
int bench_fetch(int port, const char *name, const char *dir, struct bench_fetch *ret,
                struct wh_err *err);
