/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: JSON as image manifests, indexes and configs arrive. Parses
 * with common/json_util, reads the fields a manifest/index/config reader
 * reads through the typed getters (as image_read does), computes the
 * effective run config and the output config from it (image_config), and
 * checks that serialising and parsing again is stable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "err.h"
#include "json_util.h"
#include "../../builder/image_config.h"
#include "../../builder/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failure must say something, and start with the document's name. */
static void check_err(int r, const struct wh_err *err)
{
        if (r < 0 && (!err->msg[0] || strncmp(err->msg, "doc", 3) != 0))
                abort();
}

static void read_descriptor(json_object *d, const char *what)
{
        struct wh_err err = {0};
        const char *s = NULL;
        int64_t n = 0;
        json_object *o = NULL;
        check_err(wh_json_get_string(d, what, "mediaType", 0, &s, &err), &err);
        check_err(wh_json_get_string(d, what, "digest", 1, &s, &err), &err);
        check_err(wh_json_get_int64(d, what, "size", 1, 0, INT64_MAX, &n, &err), &err);
        check_err(wh_json_get_object(d, what, "annotations", 0, &o, &err), &err);
        check_err(wh_json_get_object(d, what, "platform", 0, &o, &err), &err);
        if (o) {
                check_err(wh_json_get_string(o, "doc.platform", "os", 0, &s, &err), &err);
                check_err(wh_json_get_string(o, "doc.platform", "architecture", 0, &s, &err),
                          &err);
        }
}

static void read_list(json_object *doc, const char *key)
{
        struct wh_err err = {0};
        json_object *arr = NULL;
        int r = wh_json_get_array(doc, "doc", key, 0, &arr, &err);
        check_err(r, &err);
        for (size_t i = 0; arr && i < json_object_array_length(arr) && i < 64; i++)
                read_descriptor(json_object_array_get_idx(arr, i), "doc.list");
}

static void read_config(json_object *doc)
{
        struct wh_err err = {0};
        json_object *c = NULL, *rootfs = NULL;
        char **v = NULL;
        int b = 0;
        check_err(wh_json_get_object(doc, "doc", "config", 0, &c, &err), &err);
        if (c) {
                check_err(wh_json_get_strv(c, "doc.config", "Env", 0, &v, &err), &err);
                wh_strv_free(v);
                v = NULL;
                check_err(wh_json_get_bool(c, "doc.config", "ArgsEscaped", 0, &b, &err), &err);
        }
        check_err(wh_json_get_object(doc, "doc", "rootfs", 0, &rootfs, &err), &err);
        if (rootfs) {
                check_err(wh_json_get_strv(rootfs, "doc.rootfs", "diff_ids", 1, &v, &err),
                          &err);
                wh_strv_free(v);
        }
        (void)wh_config_created(doc);

        struct wh_profile *p = wh_profile_new();
        struct wh_effective eff = {0};
        if (!p)
                abort();
        if (wh_effective_compute(doc, p, NULL, NULL, &eff, &err) >= 0) {
                json_object *out = wh_output_config(doc, &eff);
                if (!out)
                        abort();
                json_object_put(out);
                wh_effective_release(&eff);
        }
        wh_profile_free(p);
}

static void check_round_trip(json_object *doc)
{
        struct wh_err err = {0};
        for (int pretty = 0; pretty < 2; pretty++) {
                _cleanup_free_ char *s = wh_json_to_string(doc, pretty);
                if (!s)
                        abort();
                _cleanup_json_ json_object *again = NULL;
                if (wh_json_parse(s, strlen(s), "doc", &again, &err) < 0)
                        abort();
                _cleanup_free_ char *s2 = wh_json_to_string(again, pretty);
                if (!s2 || strcmp(s, s2) != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct wh_err err = {0};
        _cleanup_json_ json_object *doc = NULL;
        if (size > (1u << 20))
                return 0;
        int r = wh_json_parse((const char *)data, size, "doc", &doc, &err);
        check_err(r, &err);
        if (r < 0)
                return 0;
        check_round_trip(doc);
        if (!json_object_is_type(doc, json_type_object))
                return 0;
        int64_t n = 0;
        check_err(wh_json_get_int64(doc, "doc", "schemaVersion", 0, 2, 2, &n, &err), &err);
        read_list(doc, "manifests");
        read_list(doc, "layers");
        json_object *cfg = NULL;
        check_err(wh_json_get_object(doc, "doc", "config", 0, &cfg, &err), &err);
        read_config(doc);

        /* --entrypoint style text. */
        char **argv = NULL;
        _cleanup_free_ char *text = strndup((const char *)data, size);
        if (text && wh_argv_parse(text, "doc", &argv, &err) >= 0)
                wh_strv_free(argv);
        return 0;
}
