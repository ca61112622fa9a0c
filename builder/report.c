/* SPDX-License-Identifier: Apache-2.0 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"

const char *wh_ftype_name(enum wh_ftype t)
{
        switch (t) {
        case WH_F_REG:
                return "file";
        case WH_F_DIR:
                return "dir";
        case WH_F_SYMLINK:
                return "symlink";
        case WH_F_HARDLINK:
                return "hardlink";
        case WH_F_CHR:
                return "char";
        case WH_F_BLK:
                return "block";
        case WH_F_FIFO:
                return "fifo";
        }
        return "unknown";
}

static json_object *digest_or_null(const char *d)
{
        return d && *d ? json_object_new_string(d) : NULL;
}

static json_object *report_source(const struct wh_report_input *in)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        wh_json_add_string(o, "ref", in->source_ref);
        json_object_object_add(o, "manifest_digest", digest_or_null(in->src->manifest_digest));
        wh_json_add_int64(o, "layers", (int64_t)in->src->n_layers);
        wh_json_add_int64(o, "files", (int64_t)in->src_stats->files);
        wh_json_add_int64(o, "bytes", (int64_t)in->src_stats->bytes);
        wh_json_add_int64(o, "compressed_bytes", (int64_t)in->src->compressed_bytes);
        return o;
}

/* ostree: the commit and how much of it the repository already held. */
static json_object *report_store(const struct wh_write_result *w)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        wh_json_add_string(o, "commit", w->commit);
        wh_json_add_int64(o, "objects_new", (int64_t)w->store.objects_new);
        wh_json_add_int64(o, "objects_reused", (int64_t)w->store.objects_reused);
        wh_json_add_int64(o, "bytes_new", (int64_t)w->store.bytes_new);
        wh_json_add_int64(o, "bytes_reused", (int64_t)w->store.bytes_reused);
        return o;
}

static json_object *report_result(const struct wh_report_input *in)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        const struct wh_write_result *w = in->result;
        wh_json_add_string(o, "ref", in->dest_ref);
        json_object_object_add(o, "manifest_digest", digest_or_null(w ? w->manifest_digest : NULL));
        json_object_object_add(o, "config_digest", digest_or_null(w ? w->config_digest : NULL));
        json_object_object_add(o, "layer_digest", digest_or_null(w ? w->layer_digest : NULL));
        json_object_object_add(o, "diff_id", digest_or_null(w ? w->diff_id : NULL));
        wh_json_add_string(o, "compression", in->compression);
        wh_json_add_int64(o, "files", (int64_t)in->closure->kept_files);
        wh_json_add_int64(o, "bytes", (int64_t)in->closure->kept_bytes);
        if (w)
                wh_json_add_int64(o, "compressed_bytes", (int64_t)w->layer_size);
        else
                json_object_object_add(o, "compressed_bytes", NULL);
        if (w && w->store.present)
                json_object_object_add(o, "store", report_store(w));
        return o;
}

static json_object *report_kept(struct wh_index *idx)
{
        json_object *arr = json_object_new_array();
        if (!arr)
                return NULL;
        size_t n = 0;
        struct wh_entry **all = wh_index_sorted(idx, &n);
        for (size_t i = 0; i < n; i++) {
                const struct wh_entry *e = all[i];
                if (!e->keep_reason)
                        continue;
                json_object *k = json_object_new_object();
                if (!k)
                        goto nomem;
                char path[4100];
                snprintf(path, sizeof(path), "/%s", e->path);
                wh_json_add_string(k, "path", path);
                wh_json_add_string(k, "type", wh_ftype_name(e->type));
                wh_json_add_int64(k, "size", e->type == WH_F_REG ? (int64_t)e->size : 0);
                wh_json_add_string(k, "reason", e->keep_reason);
                if (json_object_array_add(arr, k) < 0) {
                        json_object_put(k);
                        goto nomem;
                }
        }
        return arr;
nomem:
        json_object_put(arr);
        return NULL;
}

int wh_report_write(const char *path, struct wh_index *idx, const struct wh_report_input *in,
                    struct wh_err *err)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return wh_fail(err, ENOMEM, "report");
        wh_json_add_string(o, "version", WH_VERSION);
        json_object_object_add(o, "source", report_source(in));
        json_object_object_add(o, "result", report_result(in));
        json_object_object_add(o, "profiles", wh_json_from_strv(in->profiles));
        json_object_object_add(o, "kept", report_kept(idx));
        json_object *d = json_object_new_object();
        if (d) {
                wh_json_add_int64(d, "files", (int64_t)in->closure->dropped_files);
                wh_json_add_int64(d, "bytes", (int64_t)in->closure->dropped_bytes);
        }
        json_object_object_add(o, "dropped", d);
        json_object_object_add(o, "entrypoint", in->eff->entrypoint ? wh_json_from_strv(in->eff->entrypoint) : NULL);
        json_object_object_add(o, "cmd", in->eff->cmd ? wh_json_from_strv(in->eff->cmd) : NULL);

        _cleanup_free_ char *text = wh_json_to_string(o, 1);
        if (!text)
                return wh_fail(err, ENOMEM, "report");
        _cleanup_free_ char *withnl = NULL;
        if (asprintf(&withnl, "%s\n", text) < 0)
                return wh_fail(err, ENOMEM, "report");
        int r = wh_write_file_atomic_at(AT_FDCWD, path, withnl, strlen(withnl), 0644, err);
        return r < 0 ? wh_fail_ctx(err, r, "report '%s'", path) : 0;
}

int wh_report_dry_run(FILE *out, struct wh_index *idx)
{
        size_t n = 0;
        struct wh_entry **all = wh_index_sorted(idx, &n);
        for (size_t i = 0; i < n; i++) {
                const struct wh_entry *e = all[i];
                if (e->keep_reason)
                        fprintf(out, "keep\t/%s\t%s\n", e->path, e->keep_reason);
                else
                        fprintf(out, "drop\t/%s\n", e->path);
        }
        return fflush(out) == 0 ? 0 : -errno;
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
        if (b >= 10ull * 1024 * 1024)
                snprintf(buf, len, "%.1f MiB", (double)b / (1024.0 * 1024.0));
        else if (b >= 10ull * 1024)
                snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
        else
                snprintf(buf, len, "%llu B", (unsigned long long)b);
}

void wh_report_summary(FILE *out, const struct wh_report_input *in)
{
        char b0[32], b1[32], c0[32], c1[32];
        human_bytes(in->src_stats->bytes, b0, sizeof(b0));
        human_bytes(in->closure->kept_bytes, b1, sizeof(b1));
        human_bytes(in->src->compressed_bytes, c0, sizeof(c0));
        double pct = in->src_stats->bytes
                             ? 100.0 * (double)in->closure->kept_bytes / (double)in->src_stats->bytes
                             : 0.0;
        fprintf(out, "whittle: %s -> %s\n", in->source_ref, in->dest_ref);
        fprintf(out, "  files: %llu -> %llu\n", (unsigned long long)in->src_stats->files,
                (unsigned long long)in->closure->kept_files);
        fprintf(out, "  bytes: %s -> %s (%.1f%%)\n", b0, b1, pct);
        if (in->result && in->result->store.present) {
                const struct wh_store_stats *st = &in->result->store;
                human_bytes(st->bytes_new, c1, sizeof(c1));
                human_bytes(st->bytes_reused, b1, sizeof(b1));
                fprintf(out, "  store: %llu objects new (%s), %llu reused (%s deduplicated)\n",
                        (unsigned long long)st->objects_new, c1,
                        (unsigned long long)st->objects_reused, b1);
                fprintf(out, "  commit: %s\n", in->result->commit);
        } else if (in->result) {
                human_bytes(in->result->layer_size, c1, sizeof(c1));
                fprintf(out, "  compressed: %s in %zu layer%s -> %s in 1 %s layer\n", c0,
                        in->src->n_layers, in->src->n_layers == 1 ? "" : "s", c1,
                        in->compression);
                if (in->result->manifest_digest[0])
                        fprintf(out, "  manifest: %s\n", in->result->manifest_digest);
        }
}
