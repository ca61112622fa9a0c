/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the tar writer: headers read back by libarchive, pax only
 * where needed and without time or pid, byte-for-byte repeatable output.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "../../builder/tar_write.h"
#include "tap.h"

struct membuf {
        char *p;
        size_t len, cap;
};

static int mem_sink(void *userdata, const void *buf, size_t len, struct wh_err *err)
{
        struct membuf *m = userdata;
        (void)err;
        if (m->len + len > m->cap) {
                size_t ncap = (m->len + len) * 2;
                char *np = realloc(m->p, ncap);
                if (!np)
                        return -ENOMEM;
                m->p = np;
                m->cap = ncap;
        }
        memcpy(m->p + m->len, buf, len);
        m->len += len;
        return 0;
}

static const unsigned char cap_value[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x04,
                                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

static char long_name[200];
static char long_target[150];

static int write_sample(struct membuf *m, int fd)
{
        struct wh_err err = {0};
        struct wh_tar_writer w;
        wh_tar_writer_init(&w, mem_sink, m);
        struct wh_xattr x = {.name = (char *)"security.capability",
                             .value = (void *)cap_value,
                             .len = sizeof(cap_value)};
        struct wh_tar_hdr hs[] = {
                {.path = "etc", .type = WH_TAR_DIR, .mode = 0755, .mtime = 100},
                {.path = "etc/hostname",
                 .type = WH_TAR_REG,
                 .mode = 0644,
                 .uid = 1000,
                 .gid = 1000,
                 .size = 5,
                 .mtime = 200},
                {.path = long_name,
                 .type = WH_TAR_REG,
                 .mode = 0600,
                 .uid = 3000000,
                 .gid = 7,
                 .size = 0,
                 .mtime = 300},
                {.path = "usr/bin/ping",
                 .type = WH_TAR_REG,
                 .mode = 04755,
                 .size = 3,
                 .mtime = 400,
                 .xattrs = &x,
                 .n_xattrs = 1},
                {.path = "usr/bin/ping2",
                 .type = WH_TAR_LINK,
                 .mode = 04755,
                 .link = "usr/bin/ping",
                 .mtime = 400},
                {.path = "usr/lib64",
                 .type = WH_TAR_SYMLINK,
                 .mode = 0777,
                 .link = long_target,
                 .mtime = -5},
                {.path = "run/fifo", .type = WH_TAR_FIFO, .mode = 0600, .mtime = 1},
        };
        for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
                if (wh_tar_write_header(&w, &hs[i], &err) < 0)
                        return -1;
                if (i == 1 && wh_tar_write_data(&w, "hello", 5, &err) < 0)
                        return -1;
                char buf[2];
                if (i == 3 && wh_tar_copy_fd(&w, fd, 0, 3, buf, sizeof(buf), &err) < 0)
                        return -1;
        }
        return wh_tar_finish(&w, &err);
}

static void test_roundtrip(void)
{
        memset(long_name, 'n', sizeof(long_name) - 1);
        memcpy(long_name, "opt/", 4);
        long_name[150] = '/';
        memset(long_target, 't', sizeof(long_target) - 1);
        long_target[0] = '/';

        int fd = memfd_create("content", MFD_CLOEXEC);
        ok(fd >= 0 && write(fd, "abc", 3) == 3, "content fd");

        struct membuf a = {0}, b = {0};
        is_int(write_sample(&a, fd), 0, "archive written");
        is_int(write_sample(&b, fd), 0, "archive written again");
        ok(a.len == b.len && !memcmp(a.p, b.p, a.len), "same input, same bytes");
        is_int(a.len % 512, 0, "whole blocks");
        ok(!memmem(a.p, a.len, "mtime=", 6) && !memmem(a.p, a.len, "atime=", 6) &&
                   !memmem(a.p, a.len, "ctime=", 6),
           "no time in pax headers");
        ok(memmem(a.p, a.len, "PaxHeaders/", 11) != NULL,
           "pax header for the long entries");
        static const char no_names[64];
        ok(!memcmp(a.p + 512 + 265, no_names, 64), "uname and gname fields are empty");
        ok(!memcmp(a.p + 257,
                   "ustar\0"
                   "00",
                   8),
           "ustar magic and version");

        struct archive *ar = archive_read_new();
        archive_read_support_format_tar(ar);
        is_int(archive_read_open_memory(ar, a.p, a.len), ARCHIVE_OK, "libarchive opens it");
        struct archive_entry *ae;
        const char *want[] = {"etc/",          "etc/hostname", long_name, "usr/bin/ping",
                              "usr/bin/ping2", "usr/lib64",    "run/fifo"};
        size_t i = 0;
        int order_ok = 1;
        while (archive_read_next_header(ar, &ae) == ARCHIVE_OK) {
                const char *p = archive_entry_pathname(ae);
                if (i >= ARRAY_SIZE(want) || strcmp(p, want[i]))
                        order_ok = 0;
                if (i == 1) {
                        char buf[8] = {0};
                        is_int(archive_read_data(ar, buf, sizeof(buf)), 5, "file size");
                        is_str(buf, "hello", "file content");
                        is_int(archive_entry_uid(ae), 1000, "uid");
                        const char *u = archive_entry_uname(ae),
                                   *g = archive_entry_gname(ae);
                        ok((!u || !*u) && (!g || !*g), "no user or group name");
                        is_int(archive_entry_mtime(ae), 200, "mtime");
                        ok(!archive_entry_atime_is_set(ae) &&
                                   !archive_entry_ctime_is_set(ae),
                           "no atime, no ctime");
                }
                if (i == 2)
                        is_int(archive_entry_uid(ae), 3000000, "large uid via pax");
                if (i == 3) {
                        is_int(archive_entry_mode(ae) & 07777, 04755, "setuid mode kept");
                        const char *name;
                        const void *val;
                        size_t len;
                        ok(archive_entry_xattr_reset(ae) == 1 &&
                                   archive_entry_xattr_next(ae, &name, &val, &len) ==
                                           ARCHIVE_OK &&
                                   !strcmp(name, "security.capability") &&
                                   len == sizeof(cap_value) && !memcmp(val, cap_value, len),
                           "binary xattr round-trips");
                        char buf[8] = {0};
                        is_int(archive_read_data(ar, buf, sizeof(buf)), 3,
                               "copied content");
                        is_str(buf, "abc", "copied through a small buffer");
                }
                if (i == 4)
                        is_str(archive_entry_hardlink(ae), "usr/bin/ping",
                               "hard link target");
                if (i == 5) {
                        is_str(archive_entry_symlink(ae), long_target,
                               "long symlink target");
                        is_int(archive_entry_mtime(ae), 0, "negative mtime written as 0");
                }
                if (i == 6)
                        is_int(archive_entry_filetype(ae), AE_IFIFO, "fifo");
                i++;
        }
        ok(order_ok && i == ARRAY_SIZE(want), "entries in write order, names intact");
        archive_read_free(ar);
        close(fd);
        free(a.p);
        free(b.p);
}

static void test_misuse(void)
{
        struct membuf m = {0};
        struct wh_err err = {0};
        struct wh_tar_writer w;
        wh_tar_writer_init(&w, mem_sink, &m);
        struct wh_tar_hdr h = {.path = "f", .type = WH_TAR_REG, .mode = 0644, .size = 4};
        is_int(wh_tar_write_header(&w, &h, &err), 0, "header");
        is_int(wh_tar_write_data(&w, "12345", 5, &err), -EINVAL, "data past size refused");
        is_int(wh_tar_write_data(&w, "12", 2, &err), 0, "partial data");
        is_int(wh_tar_write_header(&w, &h, &err), -EINVAL,
               "next header before data is done");
        is_int(wh_tar_finish(&w, &err), -EINVAL, "finish with data missing");
        int fd = memfd_create("short", MFD_CLOEXEC);
        char buf[16];
        is_int(wh_tar_copy_fd(&w, fd, 0, 2, buf, sizeof(buf), &err), -EIO, "short source");
        close(fd);
        free(m.p);
}

int main(void)
{
        test_roundtrip();
        test_misuse();
        return done_testing();
}
