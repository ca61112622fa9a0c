/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* What every report records about where it ran: machine, kernel, CPU, tool versions. */
#include <json-c/json.h>

/*
 * {"machine": {...}, "tools": {name: version line}}. tools lists name=path pairs
 * (NULL-terminated, path may be a bare command); a tool that does not answer is
 * "not found". Caller owns.
 */
json_object *bench_env_collect(const char *const *tools);

/* The first line of `argv[0] --version` (or the args given), or NULL. Caller owns. */
char *bench_tool_version(const char *path, const char *arg);
