/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * process.terminal: the pty is allocated inside the container (its own
 * devpts instance), made the controlling terminal of the process on fds
 * 0-2, and the master is handed to the engine over --console-socket with
 * SCM_RIGHTS, as runc and crun do.
 */
#include "err.h"

/* Connects to the engine's AF_UNIX socket. Returns a CLOEXEC fd. */
int wh_console_connect(const char *path, struct wh_err *err);

/*
 * In the container process (after pivot_root): opens /dev/ptmx, sends the
 * master over sock_fd, makes the peer the controlling tty on 0, 1, 2.
 * Calls setsid() first.
 */
int wh_console_setup(int sock_fd, struct wh_err *err);

/* Sends fd over sock with name as the message payload. */
int wh_console_send_fd(int sock, int fd, const char *name, struct wh_err *err);
