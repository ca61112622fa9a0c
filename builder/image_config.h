/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The effective run configuration of the result: the source image's
 * config, overridden by the profile, overridden by the command line.
 */
#include <json-c/json.h>
#include <stdint.h>

#include "err.h"
#include "profile.h"

struct wh_effective {
        char **entrypoint; /* owned strv or NULL */
        char **cmd;        /* owned strv or NULL */
        char **env;        /* owned strv, never NULL */
        char *user;        /* owned or NULL */
        char *workdir;     /* owned or NULL */
};

/*
 * cli_entrypoint / cli_cmd: NULL when not given. As with `docker run
 * --entrypoint`, overriding the entrypoint (profile or command line)
 * clears an inherited Cmd unless Cmd is overridden too.
 */
int wh_effective_compute(json_object *src_config, const struct wh_profile *profile,
                         char **cli_entrypoint, char **cli_cmd, struct wh_effective *ret,
                         struct wh_err *err);
void wh_effective_release(struct wh_effective *eff);

/*
 * The result's config: architecture and os of the source (amd64/linux when
 * it has none), config {Env, WorkingDir, User, Labels, ExposedPorts,
 * StopSignal, Entrypoint, Cmd}. created/rootfs/history are added by the
 * writer. Caller owns; NULL on ENOMEM.
 */
json_object *wh_output_config(json_object *src_config, const struct wh_effective *eff);

/* The source's "created" time in seconds since the epoch, or -1. */
int64_t wh_config_created(json_object *src_config);
/* epoch (before 1970: 1970) as an image config's RFC 3339 UTC time. */
void wh_config_time(int64_t epoch, char out[32]);

/* Parses "--entrypoint"-style text: a JSON array of strings or one word. */
int wh_argv_parse(const char *text, const char *what, char ***ret, struct wh_err *err);
