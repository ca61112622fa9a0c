/* SPDX-License-Identifier: Apache-2.0 */
/* whittle inspect: an image's config, layers, sizes and file count. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cmd.h"
#include "image_read.h"
#include "image_ref.h"
#include "index.h"
#include "json_util.h"
#include "log.h"

static void inspect_usage(FILE *f)
{
        fprintf(f, "Usage: whittle inspect [--json] SOURCE\n"
                   "\n"
                   "Show the config, layers (digest, media type, size), file count and bytes of\n"
                   "an image. SOURCE: oci:DIR[:REF] oci-archive:FILE[:REF] docker-archive:FILE\n"
                   "dir:DIR tar:FILE\n");
}

static json_object *inspect_json(const struct wh_source *src, const struct wh_index_stats *st)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "manifest_digest",
                               src->manifest_digest ? json_object_new_string(src->manifest_digest)
                                                    : NULL);
        json_object_object_add(o, "config_digest",
                               src->config_digest ? json_object_new_string(src->config_digest)
                                                  : NULL);
        json_object *layers = json_object_new_array();
        for (size_t i = 0; layers && i < src->n_layers; i++) {
                json_object *l = json_object_new_object();
                if (!l)
                        break;
                wh_json_add_string(l, "digest", src->layers[i].digest ? src->layers[i].digest : "");
                wh_json_add_string(l, "media_type",
                                   src->layers[i].media_type ? src->layers[i].media_type : "");
                wh_json_add_int64(l, "size", src->layers[i].size);
                json_object_array_add(layers, l);
        }
        json_object_object_add(o, "layers", layers);
        wh_json_add_int64(o, "compressed_bytes", (int64_t)src->compressed_bytes);
        wh_json_add_int64(o, "files", (int64_t)st->files);
        wh_json_add_int64(o, "bytes", (int64_t)st->bytes);
        json_object_object_add(o, "config", json_object_get(src->config));
        return o;
}

static void inspect_text(const struct wh_source *src, const struct wh_index_stats *st)
{
        if (src->manifest_digest)
                printf("Manifest:  %s\n", src->manifest_digest);
        if (src->config_digest)
                printf("Config:    %s\n", src->config_digest);
        json_object *c = NULL;
        if (src->config && json_object_object_get_ex(src->config, "config", &c) && c) {
                json_object *v = NULL;
                static const char *const keys[] = {"Entrypoint", "Cmd", "User", "WorkingDir",
                                                   "Env", "ExposedPorts", "StopSignal", "Labels"};
                for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                        if (json_object_object_get_ex(c, keys[i], &v) && v)
                                printf("%-10s %s\n", keys[i],
                                       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        }
        printf("Layers:    %zu (%llu bytes)\n", src->n_layers,
               (unsigned long long)src->compressed_bytes);
        for (size_t i = 0; i < src->n_layers; i++)
                printf("  %s  %12lld  %s\n", src->layers[i].digest ? src->layers[i].digest : "-",
                       (long long)src->layers[i].size,
                       src->layers[i].media_type ? src->layers[i].media_type : "-");
        printf("Files:     %llu\n", (unsigned long long)st->files);
        printf("Bytes:     %llu\n", (unsigned long long)st->bytes);
}

static int run_inspect(const char *text, int as_json, struct wh_err *err)
{
        struct wh_image_ref ref = {0};
        int r = wh_image_ref_parse(text, 0, &ref, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "source");
        struct wh_source *src = NULL;
        struct wh_index *idx = NULL;
        struct wh_index_stats st = {0};
        r = wh_source_open(&ref, &src, err);
        if (r >= 0 && !(idx = wh_index_new()))
                r = wh_fail(err, ENOMEM, "index");
        if (r >= 0)
                r = wh_source_index(src, idx, &st, NULL, NULL, err);
        if (r < 0) {
                r = wh_fail_ctx(err, r, "%s", text);
        } else if (as_json) {
                _cleanup_json_ json_object *o = inspect_json(src, &st);
                _cleanup_free_ char *s = o ? wh_json_to_string(o, 1) : NULL;
                if (!s)
                        r = wh_fail(err, ENOMEM, "inspect");
                else
                        printf("%s\n", s);
        } else {
                inspect_text(src, &st);
        }
        wh_index_free(idx);
        wh_source_free(src);
        wh_image_ref_release(&ref);
        return r;
}

int cmd_inspect(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int as_json = 0, c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+jh", longopts, NULL)) != -1) {
                switch (c) {
                case 'j':
                        as_json = 1;
                        break;
                case 'h':
                        inspect_usage(stdout);
                        return WH_EXIT_OK;
                default:
                        fprintf(stderr, "whittle: inspect: unknown option '%s'\n", argv[optind - 1]);
                        inspect_usage(stderr);
                        return WH_EXIT_USAGE;
                }
        }
        if (argc - optind != 1) {
                fprintf(stderr, "whittle: inspect: expected one SOURCE\n");
                inspect_usage(stderr);
                return WH_EXIT_USAGE;
        }
        struct wh_err err = {0};
        if (run_inspect(argv[optind], as_json, &err) < 0) {
                wh_err_print(&err, "whittle");
                return WH_EXIT_FAIL;
        }
        return WH_EXIT_OK;
}
