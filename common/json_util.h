/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * json-c helpers whose errors name the field ("manifest: layers[2].digest:
 * expected a string") and the place in the text ("line 3, column 7").
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

static inline void wh_json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(wh_json_putp)))

/*
 * Parses len bytes of text as one JSON value. what names the document in
 * errors. Caller owns *ret (json_object_put).
 */
int wh_json_parse(const char *buf, size_t len, const char *what, json_object **ret,
                  struct wh_err *err);

/* Reads (at most max bytes) and parses a file relative to dirfd. */
int wh_json_parse_file(int dirfd, const char *path, size_t max, json_object **ret,
                       struct wh_err *err);

/*
 * Typed lookups. The key is looked up in obj; a missing optional key
 * leaves *ret untouched and returns 0; a missing required key or a value of
 * the wrong type is an error naming "<what>.<key>". Returned pointers borrow
 * from obj.
 */
int wh_json_get_string(json_object *obj, const char *what, const char *key, int required,
                       const char **ret, struct wh_err *err);
int wh_json_get_int64(json_object *obj, const char *what, const char *key, int required,
                      int64_t min, int64_t max, int64_t *ret, struct wh_err *err);
/* 0 ... UINT64_MAX; a negative number is an error of its own. */
int wh_json_get_uint64(json_object *obj, const char *what, const char *key, int required,
                       uint64_t *ret, struct wh_err *err);
int wh_json_get_object(json_object *obj, const char *what, const char *key, int required,
                       json_object **ret, struct wh_err *err);
int wh_json_get_array(json_object *obj, const char *what, const char *key, int required,
                      json_object **ret, struct wh_err *err);
int wh_json_get_bool(json_object *obj, const char *what, const char *key, int required,
                     int *ret, struct wh_err *err);
/*
 * An array of strings as a NULL-terminated vector (caller owns, free with
 * wh_strv_free). A missing optional key gives *ret == NULL.
 */
int wh_json_get_strv(json_object *obj, const char *what, const char *key, int required,
                     char ***ret, struct wh_err *err);

/* Compact, deterministic text (keys in insertion order). Caller owns. */
char *wh_json_to_string(json_object *obj, int pretty);

/* Adds a string / int member; returns -ENOMEM on allocation failure. */
int wh_json_add_string(json_object *obj, const char *key, const char *val);
int wh_json_add_int64(json_object *obj, const char *key, int64_t val);
/* A json array of the strings in a NULL-terminated vector, or NULL on ENOMEM. */
json_object *wh_json_from_strv(char *const *v);
