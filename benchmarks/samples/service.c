/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The benchmark's compiled workload: what a small native HTTP service does
 * before it can take traffic. It resolves its listen address
 * (getaddrinfo), looks up its user through NSS (/etc/nsswitch.conf,
 * passwd), stamps its first log line in local time (/etc/localtime),
 * listens, and prints "ready". Then it sends itself one GET /healthz through the loopback
 * interface, answers it, checks the answer and exits 0, as the Python
 * sample does; with --serve it keeps answering until killed.
 *
 *   LISTEN=HOST:PORT   where to listen (default 127.0.0.1:8080; a name needs
 *                      /etc/hosts, which engines mount into containers)
 *
 * Built by benchmarks/make-samples with the host's compiler against the
 * sample images' glibc (both Debian bookworm), linked dynamically.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what, const char *detail)
{
        fprintf(stderr, "service: %s: %s\n", what, detail);
        return 1;
}

/* Splits "HOST:PORT" (HOST may be "[v6]") in place. */
static int split_listen(char *s, char **ret_host, char **ret_port)
{
        char *colon = strrchr(s, ':');
        if (!colon || colon == s || !colon[1])
                return -1;
        *colon = '\0';
        if (s[0] == '[' && colon[-1] == ']') {
                colon[-1] = '\0';
                s++;
        }
        *ret_host = s;
        *ret_port = colon + 1;
        return 0;
}

/* Reads until the peer's header ends or closes; returns the length read. */
static ssize_t read_head(int fd, char *buf, size_t size)
{
        size_t n = 0;
        while (n + 1 < size) {
                ssize_t k = read(fd, buf + n, size - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
                buf[n] = '\0';
                if (strstr(buf, "\r\n\r\n"))
                        break;
        }
        buf[n] = '\0';
        return (ssize_t)n;
}

static int write_str(int fd, const char *s)
{
        size_t len = strlen(s);
        while (len) {
                ssize_t k = write(fd, s, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                s += k;
                len -= (size_t)k;
        }
        return 0;
}

static void answer(int conn)
{
        char req[2048];
        read_head(conn, req, sizeof(req));
        const char *reply = !strncmp(req, "GET /healthz ", 13)
                                    ? "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
                                    : "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        (void)write_str(conn, reply);
}

/* One request to ourselves through the listening socket, answered in turn. */
static int self_check(int lfd, const struct sockaddr *addr, socklen_t alen)
{
        int c = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, addr, alen) < 0)
                return fail("healthz: connect", strerror(errno));
        if (write_str(c, "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n") < 0)
                return fail("healthz: send", strerror(errno));
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return fail("healthz: accept", strerror(errno));
        answer(conn);
        close(conn);
        char resp[2048];
        read_head(c, resp, sizeof(resp));
        close(c);
        if (strncmp(resp, "HTTP/1.0 200 ", 13) != 0)
                return fail("healthz", "no 200 answer");
        printf("healthz: 200\n");
        return 0;
}

int main(int argc, char **argv)
{
        int serve = argc > 1 && !strcmp(argv[1], "--serve");
        if (argc > 1 && !serve) {
                fprintf(stderr, "usage: service [--serve]   (LISTEN=HOST:PORT)\n");
                return 2;
        }
        const char *env = getenv("LISTEN");
        char listen_at[256];
        snprintf(listen_at, sizeof(listen_at), "%s", env && *env ? env : "127.0.0.1:8080");
        char *host, *port;
        if (split_listen(listen_at, &host, &port) < 0)
                return fail("LISTEN", "expected HOST:PORT");

        struct addrinfo hints = {.ai_flags = AI_PASSIVE,
                                 .ai_socktype = SOCK_STREAM},
                        *ai = NULL;
        int e = getaddrinfo(host, port, &hints, &ai);
        if (e)
                return fail(host, gai_strerror(e));
        const struct passwd *pw = getpwuid(geteuid());
        time_t now = time(NULL);
        struct tm tm;
        char started[64];
        localtime_r(&now, &tm);
        strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%S%z", &tm);

        int lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(lfd, 128) < 0)
                return fail("listen", strerror(errno));
        char addr[NI_MAXHOST], serv[NI_MAXSERV];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), serv, sizeof(serv),
                        NI_NUMERICHOST | NI_NUMERICSERV))
                snprintf(addr, sizeof(addr), "?");
        printf("{\"listen\":\"%s:%s\",\"user\":\"%s\",\"started\":\"%s\",\"tz\":\"%s\"}\n",
               addr, serv, pw ? pw->pw_name : "?", started, tm.tm_zone ? tm.tm_zone : "");
        printf("ready\n");
        fflush(stdout);

        if (!serve) {
                int r = self_check(lfd, ai->ai_addr, ai->ai_addrlen);
                freeaddrinfo(ai);
                close(lfd);
                return r;
        }
        freeaddrinfo(ai);
        for (;;) {
                int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        return fail("accept", strerror(errno));
                }
                answer(conn);
                close(conn);
        }
}
