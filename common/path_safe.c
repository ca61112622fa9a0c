/* SPDX-License-Identifier: Apache-2.0 */
#include "path_safe.h"

#include <errno.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

int wh_path_clean(const char *in, unsigned flags, char **ret)
{
        if (!in)
                return -EINVAL;
        size_t n = strlen(in);
        if (n >= PATH_MAX)
                return -ENAMETOOLONG;
        if (in[0] == '/' && !(flags & WH_PATH_ALLOW_ABS))
                return -EINVAL;
        _cleanup_free_ char *out = malloc(n + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        const char *p = in;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchrnul(p, '/');
                size_t len = (size_t)(e - p);
                if (len == 1 && p[0] == '.') {
                        /* skip */
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        if (!(flags & WH_PATH_ALLOW_DOTDOT))
                                return -EINVAL;
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                } else {
                        if (len > NAME_MAX)
                                return -ENAMETOOLONG;
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, len);
                        o += len;
                }
                p = e;
        }
        out[o] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

int wh_path_has_prefix(const char *rel, const char *dir)
{
        size_t n = strlen(dir);
        if (n == 0)
                return 1;
        return strncmp(rel, dir, n) == 0 && (rel[n] == '\0' || rel[n] == '/');
}

#define MAX_SYMLINKS 40

/*
 * Walks path one component at a time from root_fd with O_NOFOLLOW, reading
 * symlinks ourselves and restarting absolute ones at the root, and popping
 * '..' against our own stack so it never climbs above the root.
 */
int wh_open_in_root_walk(int root_fd, const char *path, int flags, mode_t mode)
{
        char buf[PATH_MAX * 2];
        int links = 0;
        size_t blen = strlen(path);
        if (blen >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, blen + 1);

        /* Stack of directory fds; [0] is the root. */
        int stack[PATH_MAX / 2];
        int depth = 0;
        stack[0] = root_fd;
        char *p = buf;
        int r;

        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p) {
                        /* The path named a directory we are in. */
                        r = openat(stack[depth], ".", flags | O_CLOEXEC, mode);
                        r = r < 0 ? -errno : r;
                        goto out;
                }
                char *e = strchrnul(p, '/');
                int last = 1;
                for (char *q = e; *q; q++)
                        if (*q != '/') {
                                last = 0;
                                break;
                        }
                char name[NAME_MAX + 1];
                size_t len = (size_t)(e - p);
                if (len > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        goto out;
                }
                memcpy(name, p, len);
                name[len] = '\0';
                p = e;

                if (!strcmp(name, ".")) {
                        if (last) {
                                r = openat(stack[depth], ".", flags | O_CLOEXEC, mode);
                                r = r < 0 ? -errno : r;
                                goto out;
                        }
                        continue;
                }
                if (!strcmp(name, "..")) {
                        if (depth > 0)
                                close(stack[depth--]);
                        if (last) {
                                r = openat(stack[depth], ".", flags | O_CLOEXEC, mode);
                                r = r < 0 ? -errno : r;
                                goto out;
                        }
                        continue;
                }

                char target[PATH_MAX];
                ssize_t tl = readlinkat(stack[depth], name, target, sizeof(target) - 1);
                if (tl >= 0 && (!last || !(flags & O_NOFOLLOW))) {
                        if (++links > MAX_SYMLINKS) {
                                r = -ELOOP;
                                goto out;
                        }
                        target[tl] = '\0';
                        size_t rest = strlen(p);
                        if ((size_t)tl + 1 + rest >= sizeof(buf)) {
                                r = -ENAMETOOLONG;
                                goto out;
                        }
                        /* New path = target + rest; rest is already in buf. */
                        memmove(buf + tl + 1, p, rest + 1);
                        memcpy(buf, target, (size_t)tl);
                        buf[tl] = '/';
                        if (tl == 0)
                                buf[0] = '/';
                        p = buf;
                        if (target[0] == '/')
                                while (depth > 0)
                                        close(stack[depth--]);
                        continue;
                }
                if (last) {
                        r = openat(stack[depth], name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                        r = r < 0 ? -errno : r;
                        goto out;
                }
                if (depth + 1 >= (int)ARRAY_SIZE(stack)) {
                        r = -ENAMETOOLONG;
                        goto out;
                }
                int nfd = openat(stack[depth], name,
                                 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0) {
                        r = -errno;
                        goto out;
                }
                stack[++depth] = nfd;
        }
out:
        while (depth > 0)
                close(stack[depth--]);
        return r;
}

int wh_open_in_root(int root_fd, const char *path, int flags, mode_t mode)
{
        static int have_openat2 = -1;
        if (have_openat2 != 0) {
                struct open_how how = {
                        .flags = (uint64_t)(flags | O_CLOEXEC),
                        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
                if (fd >= 0) {
                        have_openat2 = 1;
                        return (int)fd;
                }
                if (errno != ENOSYS && errno != EPERM) {
                        have_openat2 = 1;
                        return -errno;
                }
                have_openat2 = 0;
        }
        return wh_open_in_root_walk(root_fd, path, flags, mode);
}
