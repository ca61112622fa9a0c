/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whittle checkout: an OCI runtime bundle from an ostree: image. The root
 * is a hard-link checkout of the commit (a link per file, no data copied)
 * and config.json comes from the image config kept in the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle_spec.h"
#include "cleanup.h"
#include "cmd.h"
#include "fs_util.h"
#include "image_ref.h"
#include "json_util.h"
#include "log.h"
#include "store_ostree.h"

struct checkout_opts {
        const char *source;
        const char *bundle;
        enum wh_checkout_mode mode;
        int readonly;
        int no_config;
};

static void checkout_usage(FILE *f)
{
        fprintf(f,
                "Usage: whittle checkout [OPTIONS] ostree:REPO:REF BUNDLE_DIR\n"
                "\n"
                "Make an OCI runtime bundle from an image in an ostree repository:\n"
                "BUNDLE_DIR/rootfs (a checkout of REF) and BUNDLE_DIR/config.json (from "
                "the\n"
                "image config stored in the commit). BUNDLE_DIR is created if missing; it\n"
                "must not hold rootfs or config.json yet.\n"
                "\n"
                "  --hardlink    hard links only: fail rather than copy (the repository\n"
                "                must be on the same filesystem)\n"
                "  --copy        private copies of every file\n"
                "  --readonly    a read-only root in config.json (the default unless --copy)\n"
                "  --writable    a writable root even over hard links (see below)\n"
                "  --no-config   write the rootfs only\n"
                "  -q, --quiet   no summary\n"
                "\n"
                "By default files are hard links where possible. A hard-linked file IS the\n"
                "repository's object: a container that wrote into a file in place would\n"
                "change the store and every other checkout, so such a root is read-only\n"
                "unless --writable is given. Give the container writable directories with\n"
                "tmpfs mounts, or use --copy.\n");
}

static int parse_checkout_args(int argc, char **argv, struct checkout_opts *o)
{
        static const struct option longopts[] = {
                {"hardlink", no_argument, NULL, 'H'},
                {"copy", no_argument, NULL, 'C'},
                {"readonly", no_argument, NULL, 'r'},
                {"writable", no_argument, NULL, 'w'},
                {"no-config", no_argument, NULL, 'n'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
                switch (c) {
                case 'H':
                case 'C':
                        if (o->mode != WH_CHECKOUT_AUTO) {
                                fprintf(stderr, "whittle: checkout: --hardlink and --copy "
                                                "exclude each other\n");
                                return -EINVAL;
                        }
                        o->mode = c == 'H' ? WH_CHECKOUT_HARDLINK : WH_CHECKOUT_COPY;
                        break;
                case 'r':
                        o->readonly = 1;
                        break;
                case 'w':
                        o->readonly = 0;
                        break;
                case 'n':
                        o->no_config = 1;
                        break;
                case 'q':
                        wh_log_init("whittle", WH_LOG_QUIET);
                        break;
                case 'h':
                        checkout_usage(stdout);
                        return 1;
                default:
                        fprintf(stderr, "whittle: checkout: unknown option '%s'\n",
                                argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (argc - optind != 2) {
                fprintf(stderr,
                        "whittle: checkout: needs ostree:REPO:REF and BUNDLE_DIR\n");
                return -EINVAL;
        }
        o->source = argv[optind];
        o->bundle = argv[optind + 1];
        /* Hard links share the store's objects: read-only unless asked. */
        if (o->readonly < 0)
                o->readonly = o->mode != WH_CHECKOUT_COPY;
        return 0;
}

/* *ret_created: the bundle directory is ours, to remove on failure. */
static int open_bundle(const char *path, int no_config, int *ret_created,
                       struct wh_err *err)
{
        *ret_created = mkdir(path, 0755) == 0;
        if (!*ret_created && errno != EEXIST)
                return wh_fail(err, errno, "create '%s'", path);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "open '%s'", path);
        struct stat st;
        if (!no_config && fstatat(fd, "config.json", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                close(fd);
                return wh_failx(err, EEXIST, "'%s/config.json' exists", path);
        }
        return fd;
}

static int write_config(int bundle_fd, const struct wh_ostree_image *img,
                        const struct checkout_opts *o, struct wh_err *err)
{
        _cleanup_json_ json_object *cfg = NULL;
        if (!img->config)
                return wh_failx(err, ENOENT,
                                "commit %s has no image config (%s); use --no-config",
                                img->commit, WH_OSTREE_META_CONFIG);
        int r = wh_json_parse(img->config, strlen(img->config), "image config", &cfg, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfs = openat(
                bundle_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfs < 0)
                return wh_fail(err, errno, "rootfs");
        struct wh_bundle_opts bo = {.readonly = o->readonly};
        _cleanup_free_ char *text = NULL;
        if ((r = wh_bundle_config(cfg, rootfs, &bo, &text, err)) < 0)
                return r;
        return wh_write_file_atomic_at(bundle_fd, "config.json", text, strlen(text), 0644,
                                       err);
}

static double ms_since(const struct timespec *t0)
{
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
               (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int run_checkout(const struct checkout_opts *o, const struct wh_image_ref *ref,
                        struct wh_err *err)
{
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int created = 0;
        _cleanup_close_ int bfd = open_bundle(o->bundle, o->no_config, &created, err);
        struct wh_ostree_image img = {0};
        int r = bfd;
        if (r >= 0)
                r = wh_ostree_checkout(ref->path, ref->ref, bfd, "rootfs", o->mode, &img,
                                       err);
        if (r >= 0 && !o->no_config && (r = write_config(bfd, &img, o, err)) < 0)
                wh_rm_rf_at(bfd, "rootfs");
        if (r < 0 && created)
                rmdir(o->bundle);
        if (r < 0)
                wh_fail_ctx(err, r, "%s", o->source);
        if (r >= 0 && wh_log_level() >= WH_LOG_WARN)
                fprintf(stderr, "whittle: %s -> %s/rootfs%s: commit %.12s in %.1f ms\n",
                        o->source, o->bundle, o->no_config ? "" : " + config.json",
                        img.commit, ms_since(&t0));
        wh_ostree_image_release(&img);
        return r;
}

int cmd_checkout(int argc, char **argv)
{
        struct checkout_opts o = {.mode = WH_CHECKOUT_AUTO, .readonly = -1};
        int r = parse_checkout_args(argc, argv, &o);
        if (r > 0)
                return WH_EXIT_OK;
        if (r < 0) {
                checkout_usage(stderr);
                return WH_EXIT_USAGE;
        }
        struct wh_err err = {0};
        struct wh_image_ref ref = {0};
        if (wh_image_ref_parse(o.source, 0, &ref, &err) < 0 ||
            (ref.transport != WH_T_OSTREE &&
             wh_failx(&err, EINVAL, "'%s': checkout needs an ostree:REPO:REF image",
                      o.source) < 0)) {
                wh_err_print(&err, "whittle: checkout");
                wh_image_ref_release(&ref);
                return WH_EXIT_USAGE;
        }
        r = run_checkout(&o, &ref, &err);
        wh_image_ref_release(&ref);
        if (r < 0) {
                wh_err_print(&err, "whittle");
                return WH_EXIT_FAIL;
        }
        return WH_EXIT_OK;
}
