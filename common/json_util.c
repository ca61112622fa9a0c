/* SPDX-License-Identifier: Apache-2.0 */
#include "json_util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fs_util.h"

static void offset_to_line_col(const char *buf, size_t len, size_t off, unsigned *line,
                               unsigned *col)
{
        *line = 1;
        *col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
                if (buf[i] == '\n') {
                        (*line)++;
                        *col = 1;
                } else {
                        (*col)++;
                }
        }
}

int wh_json_parse(const char *buf, size_t len, const char *what, json_object **ret,
                  struct wh_err *err)
{
        if (len > INT32_MAX)
                return wh_failx(err, EFBIG, "%s: JSON document too large", what);
        json_tokener *tok = json_tokener_new_ex(64);
        if (!tok)
                return wh_fail(err, ENOMEM, "%s", what);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        json_object *obj = json_tokener_parse_ex(tok, buf, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t off = json_tokener_get_parse_end(tok);
        /* A top-level number ("4") only ends at a terminator: feed json-c one. */
        if (!obj && jerr == json_tokener_continue) {
                obj = json_tokener_parse_ex(tok, "", 1);
                if (obj) {
                        jerr = json_tokener_get_error(tok);
                        off = len;
                }
        }
        json_tokener_free(tok);

        if (!obj || jerr != json_tokener_success) {
                unsigned line, col;
                offset_to_line_col(buf, len, off, &line, &col);
                if (obj)
                        json_object_put(obj);
                if (jerr == json_tokener_continue)
                        return wh_failx(err, EINVAL,
                                        "%s: invalid JSON: unexpected end of text",
                                        what);
                return wh_failx(err, EINVAL, "%s: invalid JSON at line %u, column %u: %s",
                                what, line, col, json_tokener_error_desc(jerr));
        }
        /* Anything but whitespace after the value is an error too. */
        for (size_t i = off; i < len; i++) {
                if (buf[i] == '\0' || !strchr(" \t\r\n", buf[i])) {
                        unsigned line, col;
                        offset_to_line_col(buf, len, i, &line, &col);
                        json_object_put(obj);
                        return wh_failx(err, EINVAL,
                                        "%s: invalid JSON at line %u, column %u: "
                                        "trailing data after the document",
                                        what, line, col);
                }
        }
        *ret = obj;
        return 0;
}

int wh_json_parse_file(int dirfd, const char *path, size_t max, json_object **ret,
                       struct wh_err *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = wh_read_file_at(dirfd, path, max, &buf, &len, err);
        if (r < 0)
                return r;
        return wh_json_parse(buf, len, path, ret, err);
}

static int get_typed(json_object *obj, const char *what, const char *key, int required,
                     json_type type, const char *tname, json_object **ret,
                     struct wh_err *err)
{
        json_object *v = NULL;
        if (!obj || !json_object_is_type(obj, json_type_object))
                return wh_failx(err, EINVAL, "%s: expected an object", what);
        if (!json_object_object_get_ex(obj, key, &v) || !v) {
                if (required)
                        return wh_failx(err, EINVAL, "%s.%s: missing", what, key);
                return 0;
        }
        if (!json_object_is_type(v, type))
                return wh_failx(err, EINVAL, "%s.%s: expected %s", what, key, tname);
        *ret = v;
        return 1;
}

int wh_json_get_string(json_object *obj, const char *what, const char *key, int required,
                       const char **ret, struct wh_err *err)
{
        json_object *v = NULL;
        int r = get_typed(obj, what, key, required, json_type_string, "a string", &v, err);
        if (r <= 0)
                return r;
        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) != strlen(s))
                return wh_failx(err, EINVAL, "%s.%s: string contains a NUL byte", what,
                                key);
        *ret = s;
        return 0;
}

int wh_json_get_int64(json_object *obj, const char *what, const char *key, int required,
                      int64_t min, int64_t max, int64_t *ret, struct wh_err *err)
{
        json_object *v = NULL;
        int r = get_typed(obj, what, key, required, json_type_int, "an integer", &v, err);
        if (r <= 0)
                return r;
        errno = 0;
        int64_t n = json_object_get_int64(v);
        if (errno == ERANGE || n < min || n > max)
                return wh_failx(err, ERANGE, "%s.%s: %s out of range [%lld, %lld]", what,
                                key, json_object_get_string(v), (long long)min,
                                (long long)max);
        *ret = n;
        return 0;
}

int wh_json_get_uint64(json_object *obj, const char *what, const char *key, int required,
                       uint64_t *ret, struct wh_err *err)
{
        json_object *v = NULL;
        int r = get_typed(obj, what, key, required, json_type_int, "an unsigned integer", &v,
                          err);
        if (r <= 0)
                return r;
        /* json-c keeps values above INT64_MAX as unsigned (get_int64 clamps them),
         * and parses those above UINT64_MAX as UINT64_MAX. */
        if (json_object_get_int64(v) < 0)
                return wh_failx(err, ERANGE, "%s.%s: must not be negative", what, key);
        *ret = json_object_get_uint64(v);
        return 0;
}

int wh_json_get_object(json_object *obj, const char *what, const char *key, int required,
                       json_object **ret, struct wh_err *err)
{
        int r = get_typed(obj, what, key, required, json_type_object, "an object", ret,
                          err);
        return r < 0 ? r : 0;
}

int wh_json_get_array(json_object *obj, const char *what, const char *key, int required,
                      json_object **ret, struct wh_err *err)
{
        int r = get_typed(obj, what, key, required, json_type_array, "an array", ret, err);
        return r < 0 ? r : 0;
}

int wh_json_get_bool(json_object *obj, const char *what, const char *key, int required,
                     int *ret, struct wh_err *err)
{
        json_object *v = NULL;
        int r = get_typed(obj, what, key, required, json_type_boolean, "true or false",
                          &v, err);
        if (r <= 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 0;
}

int wh_json_get_strv(json_object *obj, const char *what, const char *key, int required,
                     char ***ret, struct wh_err *err)
{
        json_object *arr = NULL;
        int r = get_typed(obj, what, key, required, json_type_array, "an array of strings",
                          &arr, err);
        if (r <= 0)
                return r;
        size_t n = json_object_array_length(arr);
        _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return wh_fail(err, ENOMEM, "%s.%s", what, key);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                if (!json_object_is_type(e, json_type_string))
                        return wh_failx(err, EINVAL, "%s.%s[%zu]: expected a string", what,
                                        key, i);
                const char *s = json_object_get_string(e);
                if ((size_t)json_object_get_string_len(e) != strlen(s))
                        return wh_failx(err, EINVAL,
                                        "%s.%s[%zu]: string contains a NUL byte", what, key,
                                        i);
                v[i] = strdup(s);
                if (!v[i])
                        return wh_fail(err, ENOMEM, "%s.%s", what, key);
        }
        *ret = TAKE_PTR(v);
        return 0;
}

char *wh_json_to_string(json_object *obj, int pretty)
{
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                            : JSON_C_TO_STRING_PLAIN);
        const char *s = json_object_to_json_string_ext(obj, flags);
        return s ? strdup(s) : NULL;
}

int wh_json_add_string(json_object *obj, const char *key, const char *val)
{
        json_object *s = json_object_new_string(val);
        if (!s)
                return -ENOMEM;
        if (json_object_object_add(obj, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

int wh_json_add_int64(json_object *obj, const char *key, int64_t val)
{
        json_object *s = json_object_new_int64(val);
        if (!s)
                return -ENOMEM;
        if (json_object_object_add(obj, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

json_object *wh_json_from_strv(char *const *v)
{
        json_object *arr = json_object_new_array();
        if (!arr)
                return NULL;
        for (; v && *v; v++) {
                json_object *s = json_object_new_string(*v);
                if (!s || json_object_array_add(arr, s) < 0) {
                        json_object_put(s);
                        json_object_put(arr);
                        return NULL;
                }
        }
        return arr;
}
