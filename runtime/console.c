/* SPDX-License-Identifier: Apache-2.0 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int wh_console_connect(const char *path, struct wh_err *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(path);
        if (n >= sizeof(sa.sun_path))
                return wh_failx(err, ENAMETOOLONG, "console socket '%s': path too long", path);
        memcpy(sa.sun_path, path, n + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return wh_fail(err, errno, "console socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return wh_fail(err, errno, "console socket '%s'", path);
        return TAKE_FD(fd);
}

int wh_console_send_fd(int sock, int fd, const char *name, struct wh_err *err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
        struct msghdr msg = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = u.buf,
                .msg_controllen = sizeof(u.buf),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        ssize_t r;
        do
                r = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        return r < 0 ? wh_fail(err, errno, "send the console") : 0;
}

int wh_console_setup(int sock_fd, struct wh_err *err)
{
        _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return wh_fail(err, errno, "console: open /dev/ptmx");
        if (unlockpt(master) < 0)
                return wh_fail(err, errno, "console: unlockpt");
        /* The peer by ioctl, not by a path the image could have replaced. */
        _cleanup_close_ int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (peer < 0)
                return wh_fail(err, errno, "console: open the peer");
        char name[64] = "/dev/ptmx";
        (void)ptsname_r(master, name, sizeof(name));
        int r = wh_console_send_fd(sock_fd, master, name, err);
        if (r < 0)
                return r;
        if (setsid() < 0 && errno != EPERM)
                return wh_fail(err, errno, "console: setsid");
        if (ioctl(peer, TIOCSCTTY, 0) < 0)
                return wh_fail(err, errno, "console: set the controlling terminal");
        for (int i = 0; i < 3; i++)
                if (dup2(peer, i) < 0)
                        return wh_fail(err, errno, "console: dup2");
        return 0;
}
