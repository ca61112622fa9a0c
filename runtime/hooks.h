/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * OCI hooks (config.json "hooks"): each entry runs as path with args and
 * env, the container's state JSON on its stdin, and an optional timeout in
 * seconds. Where each kind runs (runtime-spec config.md):
 *
 *   prestart, createRuntime  runtime namespaces, during create
 *   createContainer          container namespaces, before pivot_root
 *   startContainer           container, before the user program's exec
 *   poststart                runtime, after the user program started
 *   poststop                 runtime, during delete (failures only warn)
 *
 * The hooks object is borrowed. wh_hooks_validate() runs at create time so
 * a bad hook fails before anything exists.
 */
#include <json-c/json.h>

#include "err.h"

enum wh_hook_kind {
        WH_HOOK_PRESTART,
        WH_HOOK_CREATE_RUNTIME,
        WH_HOOK_CREATE_CONTAINER,
        WH_HOOK_START_CONTAINER,
        WH_HOOK_POSTSTART,
        WH_HOOK_POSTSTOP,
};

const char *wh_hook_name(enum wh_hook_kind kind);

/* Checks every entry (path absolute, args/env string arrays, timeout > 0). */
int wh_hooks_validate(json_object *hooks, struct wh_err *err);

/* 1 when hooks has at least one entry of that kind. */
int wh_hooks_has(json_object *hooks, enum wh_hook_kind kind);
/* 1 when a hook runs while the container is set up (prestart, createRuntime,
 * createContainer, startContainer): their state carries the init's host pid. */
int wh_hooks_at_setup(json_object *hooks);

/*
 * Runs the entries of one kind in order; the first failure (exit status not
 * 0, killed, timed out) stops and is returned, naming "hooks.<kind>[i]".
 */
int wh_hooks_run(json_object *hooks, enum wh_hook_kind kind, const char *state_json,
                 struct wh_err *err);
