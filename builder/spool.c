/* SPDX-License-Identifier: Apache-2.0 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs_util.h"

int wh_spool_open(struct wh_spool *sp, struct wh_err *err)
{
        const char *dir = wh_tmp_dir();
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                /* Filesystems without O_TMPFILE: create and unlink at once. */
                char path[4096];
                snprintf(path, sizeof(path), "%s/whittle-spool-XXXXXX", dir);
                fd = mkostemp(path, O_CLOEXEC);
                if (fd < 0)
                        return wh_fail(err, errno, "create spool file in '%s'", dir);
                unlink(path);
        }
        sp->fd = fd;
        sp->size = 0;
        return 0;
}

void wh_spool_close(struct wh_spool *sp)
{
        if (sp->fd >= 0)
                close(sp->fd);
        sp->fd = -1;
}

int wh_spool_sink(struct wh_entry *e, wh_read_fn read, void *stream, void *userdata,
                  struct wh_err *err)
{
        struct wh_spool *sp = userdata;
        char buf[128 * 1024];
        uint64_t got = 0;
        for (;;) {
                int n = read(stream, buf, sizeof(buf));
                if (n < 0)
                        return wh_fail(err, -n, "read '/%s'", e->path);
                if (n == 0)
                        break;
                if (got + (uint64_t)n > e->size)
                        return wh_failx(err, EIO, "'/%s': content longer than its header (%llu bytes)",
                                        e->path, (unsigned long long)e->size);
                ssize_t w = pwrite(sp->fd, buf, (size_t)n, (off_t)(sp->size + got));
                if (w != n)
                        return wh_fail(err, w < 0 ? errno : ENOSPC, "spool '/%s'", e->path);
                got += (uint64_t)n;
        }
        if (got != e->size)
                return wh_failx(err, EIO, "'/%s': content is %llu bytes, header says %llu",
                                e->path, (unsigned long long)got, (unsigned long long)e->size);
        e->spool_off = (int64_t)sp->size;
        sp->size += got;
        return 0;
}

int wh_spool_add_bytes(struct wh_spool *sp, struct wh_entry *e, const void *data, size_t len,
                       struct wh_err *err)
{
        if (e->size != len)
                return wh_failx(err, EINVAL, "'/%s': %zu bytes, entry says %llu", e->path, len,
                                (unsigned long long)e->size);
        const char *p = data;
        for (size_t done = 0; done < len;) {
                ssize_t w = pwrite(sp->fd, p + done, len - done, (off_t)(sp->size + done));
                if (w <= 0)
                        return wh_fail(err, w < 0 ? errno : ENOSPC, "spool '/%s'", e->path);
                done += (size_t)w;
        }
        e->spool_off = (int64_t)sp->size;
        sp->size += len;
        return 0;
}
