/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_registry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_sample.h"
#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "parse_num.h"
#include "sha256.h"

#define HDR_MAX       (16 * 1024)
#define MANIFEST_MAX  (4 * 1024 * 1024)
#define IO_TIMEOUT_MS 30000

static int free_port(struct wh_err *err)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            getsockname(s, (struct sockaddr *)&a, &len) < 0)
                return wh_fail(err, errno, "find a free loopback port");
        return ntohs(a.sin_port);
}

static int write_config(const char *path, const char *storage, int port, struct wh_err *err)
{
        _cleanup_fclose_ FILE *f = fopen(path, "we");
        if (!f)
                return wh_fail(err, errno, "write '%s'", path);
        fprintf(f,
                "version: 0.1\n"
                "log:\n  level: error\n  accesslog:\n    disabled: true\n"
                "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: "
                "true\n"
                "http:\n  addr: 127.0.0.1:%d\n",
                storage, port);
        if (fflush(f) != 0)
                return wh_fail(err, errno, "write '%s'", path);
        return 0;
}

int bench_registry_start(struct bench_registry *reg, const char *workdir, int timeout_ms,
                         struct wh_err *err)
{
        memset(reg, 0, sizeof(*reg));
        if (asprintf(&reg->dir, "%s/registry", workdir) < 0 ||
            asprintf(&reg->log, "%s/registry/registry.log", workdir) < 0)
                return wh_fail(err, ENOMEM, "registry");
        _cleanup_free_ char *storage = NULL, *cfg = NULL;
        if (asprintf(&storage, "%s/storage", reg->dir) < 0 ||
            asprintf(&cfg, "%s/config.yml", reg->dir) < 0)
                return wh_fail(err, ENOMEM, "registry");
        if ((mkdir(reg->dir, 0700) < 0 && errno != EEXIST) ||
            (mkdir(storage, 0700) < 0 && errno != EEXIST))
                return wh_fail(err, errno, "registry: mkdir '%s'", storage);
        int port = free_port(err);
        if (port < 0)
                return port;
        int r = write_config(cfg, storage, port, err);
        if (r < 0)
                return r;
        _cleanup_close_ int logfd =
                open(reg->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (logfd < 0)
                return wh_fail(err, errno, "registry: open '%s'", reg->log);
        char *argv[] = {(char *)"docker-registry", (char *)"serve", cfg, NULL};
        struct bench_spawn sp = {.argv = argv,
                                 .stdin_fd = BENCH_FD_NULL,
                                 .stdout_fd = logfd,
                                 .stderr_fd = logfd,
                                 .new_pgrp = 1};
        if ((r = bench_spawn(&sp, &reg->pid, err)) < 0)
                return r;
        reg->port = port;
        int64_t deadline = bench_now_ns() + (int64_t)timeout_ms * 1000000;
        for (;;) {
                int st;
                if (waitpid(reg->pid, &st, WNOHANG) == reg->pid) {
                        reg->pid = 0;
                        _cleanup_free_ char *log = NULL;
                        wh_read_file_at(AT_FDCWD, reg->log, 4096, &log, NULL, NULL);
                        return wh_failx(
                                err, EIO, "docker-registry exited at start (status %d)%s%s",
                                WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                                log && *log ? ": " : "", log ? log : "");
                }
                if (bench_registry_ping(port, NULL) == 0)
                        return 0;
                if (bench_interrupted() || bench_now_ns() > deadline) {
                        bench_registry_stop(reg);
                        return wh_failx(
                                err, ETIMEDOUT,
                                "docker-registry did not answer on 127.0.0.1:%d within "
                                "%d ms (log: %s)",
                                port, timeout_ms, "see the registry log");
                }
                usleep(20000);
        }
}

void bench_registry_stop(struct bench_registry *reg)
{
        if (reg->pid > 0) {
                kill(-reg->pid, SIGTERM);
                int st;
                struct wh_err e;
                if (bench_wait(reg->pid, 3000, &st, &e) < 0)
                        bench_kill_group(reg->pid);
                else
                        kill(-reg->pid, SIGKILL); /* anything it left in its group */
        }
        reg->pid = 0;
        free(reg->dir);
        free(reg->log);
        reg->dir = reg->log = NULL;
}

int bench_registry_push(const struct bench_registry *reg, const char *src, const char *name,
                        struct wh_err *err)
{
        _cleanup_free_ char *dst = NULL;
        if (asprintf(&dst, "docker://127.0.0.1:%d/%s", reg->port, name) < 0)
                return wh_fail(err, ENOMEM, "push");
        char *argv[] = {(char *)"skopeo",
                        (char *)"copy",
                        (char *)"-q",
                        (char *)"--dest-tls-verify=false",
                        (char *)src,
                        dst,
                        NULL};
        int r = bench_run_ok(argv, 600000, err);
        return r < 0 ? wh_fail_ctx(err, r, "push %s to %s", src, dst) : 0;
}

char *bench_registry_blob_path(const struct bench_registry *reg, const char *digest)
{
        const char *hex = wh_digest_hex(digest);
        char *p = NULL;
        if (asprintf(&p, "%s/storage/docker/registry/v2/blobs/sha256/%.2s/%s/data",
                     reg->dir, hex, hex) < 0)
                return NULL;
        return p;
}

/* --- HTTP/1.1 client, one request per connection ----------------------------------------
 */

struct http_resp {
        int status;
        int64_t length; /* -1: until close */
        int fd;
        char *body; /* bytes already read after the header */
        size_t body_len;
};

static int http_connect(int port, struct wh_err *err)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return wh_fail(err, errno, "socket");
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
                int e = errno;
                close(s);
                return wh_fail(err, e, "connect 127.0.0.1:%d", port);
        }
        struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        return s;
}

static int parse_header(char *hdr, struct http_resp *resp, struct wh_err *err)
{
        char *save = NULL, *line = strtok_r(hdr, "\r\n", &save);
        if (!line || strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12)
                return wh_failx(err, EPROTO, "not an HTTP response");
        char code[4] = {line[9], line[10], line[11], 0};
        if (wh_parse_int(code, 100, 599, &resp->status) < 0)
                return wh_failx(err, EPROTO, "bad status line '%s'", line);
        resp->length = -1;
        while ((line = strtok_r(NULL, "\r\n", &save))) {
                if (!strncasecmp(line, "Content-Length:", 15)) {
                        const char *v = line + 15;
                        while (*v == ' ')
                                v++;
                        if (wh_parse_i64(v, 0, INT64_MAX, &resp->length) < 0)
                                return wh_failx(err, EPROTO, "bad Content-Length '%s'", v);
                } else if (!strncasecmp(line, "Transfer-Encoding:", 18) &&
                           strstr(line, "chunked")) {
                        return wh_failx(err, EPROTO, "chunked responses are not supported");
                }
        }
        return 0;
}

static int http_get(int port, const char *path, const char *accept, struct http_resp *resp,
                    struct wh_err *err)
{
        int s = http_connect(port, err);
        if (s < 0)
                return s;
        _cleanup_close_ int fd = s;
        char req[1024];
        int n = snprintf(
                req, sizeof(req),
                "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: whittle-bench\r\n"
                "%s%s%sConnection: close\r\n\r\n",
                path, port, accept ? "Accept: " : "", accept ? accept : "",
                accept ? "\r\n" : "");
        if (n < 0 || (size_t)n >= sizeof(req))
                return wh_failx(err, ENAMETOOLONG, "GET %s", path);
        if (wh_write_all(fd, req, (size_t)n) < 0)
                return wh_fail(err, errno, "GET %s: send", path);
        _cleanup_free_ char *buf = malloc(HDR_MAX + 1);
        if (!buf)
                return wh_fail(err, ENOMEM, "GET %s", path);
        size_t len = 0;
        char *end = NULL;
        while (!end) {
                if (len == HDR_MAX)
                        return wh_failx(err, EPROTO, "GET %s: header too long", path);
                ssize_t k = read(fd, buf + len, HDR_MAX - len);
                if (k < 0 && errno == EINTR && !bench_interrupted())
                        continue;
                if (k <= 0)
                        return wh_fail(err, k < 0 ? errno : EPROTO, "GET %s: read header",
                                       path);
                len += (size_t)k;
                buf[len] = '\0';
                end = strstr(buf, "\r\n\r\n");
        }
        size_t hlen = (size_t)(end - buf) + 4;
        end[2] = '\0';
        int r = parse_header(buf, resp, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "GET %s", path);
        resp->body_len = len - hlen;
        resp->body = malloc(resp->body_len + 1);
        if (!resp->body)
                return wh_fail(err, ENOMEM, "GET %s", path);
        memcpy(resp->body, buf + hlen, resp->body_len);
        resp->fd = TAKE_FD(fd);
        return 0;
}

static void resp_release(struct http_resp *r)
{
        free(r->body);
        if (r->fd >= 0)
                close(r->fd);
        r->body = NULL;
        r->fd = -1;
}

int bench_registry_ping(int port, struct wh_err *err)
{
        struct http_resp resp = {.fd = -1};
        int r = http_get(port, "/v2/", NULL, &resp, err);
        int st = resp.status;
        resp_release(&resp);
        if (r < 0)
                return r;
        return st == 200 ? 0 : wh_failx(err, EPROTO, "GET /v2/: status %d", st);
}

/* Streams the body (after what the header read already holds) to out_fd or memory, hashing.
 */
static int read_body(struct http_resp *resp, int out_fd, char **ret_mem,
                     char dg[WH_DIGEST_STR], int64_t *ret_len, struct wh_err *err)
{
        _cleanup_sha256_ struct wh_sha256 *h = wh_sha256_new();
        size_t cap = resp->body_len + 1, len = resp->body_len;
        char *mem = resp->body;
        resp->body = NULL;
        _cleanup_free_ char *buf = malloc(1 << 20);
        if (!h || !buf) {
                free(mem);
                return wh_fail(err, ENOMEM, "read body");
        }
        int64_t total = (int64_t)len;
        wh_sha256_update(h, mem, len);
        if (out_fd >= 0 && len && wh_write_all(out_fd, mem, len) < 0) {
                free(mem);
                return wh_fail(err, errno, "write blob");
        }
        for (;;) {
                if (resp->length >= 0 && total >= resp->length)
                        break;
                ssize_t k = read(resp->fd, buf, 1 << 20);
                if (k < 0 && errno == EINTR && !bench_interrupted())
                        continue;
                if (k < 0) {
                        free(mem);
                        return wh_fail(err, errno, "read body");
                }
                if (k == 0)
                        break;
                wh_sha256_update(h, buf, (size_t)k);
                total += k;
                if (out_fd >= 0) {
                        if (wh_write_all(out_fd, buf, (size_t)k) < 0) {
                                free(mem);
                                return wh_fail(err, errno, "write blob");
                        }
                        continue;
                }
                if (total > MANIFEST_MAX) {
                        free(mem);
                        return wh_failx(err, EFBIG, "manifest larger than %d bytes",
                                        MANIFEST_MAX);
                }
                if (len + (size_t)k + 1 > cap) {
                        cap = (len + (size_t)k + 1) * 2;
                        char *nm = realloc(mem, cap);
                        if (!nm) {
                                free(mem);
                                return wh_fail(err, ENOMEM, "read body");
                        }
                        mem = nm;
                }
                memcpy(mem + len, buf, (size_t)k);
                len += (size_t)k;
        }
        if (resp->length >= 0 && total != resp->length) {
                free(mem);
                return wh_failx(err, EPROTO, "body: %lld of %lld bytes", (long long)total,
                                (long long)resp->length);
        }
        wh_sha256_final(h, dg);
        *ret_len = total;
        if (ret_mem) {
                mem[len] = '\0';
                *ret_mem = mem;
        } else {
                free(mem);
        }
        return 0;
}

/* GET a blob into blobs/sha256/<hex> of the layout, checking its digest. */
static int fetch_blob(int port, const char *repo, int dfd, const char *digest,
                      int64_t *bytes, struct wh_err *err)
{
        char path[512], name[128], dg[WH_DIGEST_STR];
        snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, digest);
        snprintf(name, sizeof(name), "blobs/sha256/%s", wh_digest_hex(digest));
        struct http_resp resp = {.fd = -1};
        int r = http_get(port, path, NULL, &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                resp_release(&resp);
                return wh_failx(err, EPROTO, "GET %s: status %d", path, resp.status);
        }
        _cleanup_close_ int out = openat(
                dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (out < 0) {
                resp_release(&resp);
                return wh_fail(err, errno, "create %s", name);
        }
        int64_t n = 0;
        r = read_body(&resp, out, NULL, dg, &n, err);
        resp_release(&resp);
        if (r < 0)
                return wh_fail_ctx(err, r, "blob %s", digest);
        if (strcmp(dg, digest) != 0)
                return wh_failx(err, EBADMSG, "blob %s: content hashes to %s", digest, dg);
        *bytes += n;
        return 0;
}

static int fetch_manifest(int port, const char *repo, const char *tag, char **ret_body,
                          char dg[WH_DIGEST_STR], int64_t *bytes, struct wh_err *err)
{
        char path[512];
        snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, tag);
        struct http_resp resp = {.fd = -1};
        int r = http_get(port, path,
                         "application/vnd.oci.image.manifest.v1+json, "
                         "application/vnd.docker.distribution.manifest.v2+json",
                         &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                resp_release(&resp);
                return wh_failx(err, ENOENT, "GET %s: status %d (not pushed?)", path,
                                resp.status);
        }
        int64_t n = 0;
        r = read_body(&resp, -1, ret_body, dg, &n, err);
        resp_release(&resp);
        if (r < 0)
                return wh_fail_ctx(err, r, "manifest %s:%s", repo, tag);
        *bytes += n;
        return 0;
}

/* No fsync: a pull into a store that is thrown away; every image pays the same. */
static int write_small(int dfd, const char *name, const void *data, size_t len,
                       struct wh_err *err)
{
        _cleanup_close_ int fd = openat(
                dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || wh_write_all(fd, data, len) < 0)
                return wh_fail(err, errno, "write %s", name);
        return 0;
}

static int write_layout(int dfd, const char *mdg, size_t mlen, struct wh_err *err)
{
        char idx[512];
        int n = snprintf(
                idx, sizeof(idx),
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
                "\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":"
                "\"bench\"}}]}\n",
                mdg, mlen);
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}\n";
        if (write_small(dfd, "index.json", idx, (size_t)n, err) < 0 ||
            write_small(dfd, "oci-layout", layout, sizeof(layout) - 1, err) < 0)
                return -EIO;
        return 0;
}

/* The digests a manifest names: config first, then layers. Caller frees the vector. */
static int manifest_digests(const char *body, size_t len, char ***ret, struct wh_err *err)
{
        _cleanup_json_ json_object *man = NULL;
        json_object *cfg = NULL, *layers = NULL;
        const char *dg = NULL;
        int r = wh_json_parse(body, len, "manifest", &man, err);
        if (r < 0)
                return r;
        if (wh_json_get_object(man, "manifest", "config", 1, &cfg, err) < 0 ||
            wh_json_get_string(cfg, "config", "digest", 1, &dg, err) < 0 ||
            wh_json_get_array(man, "manifest", "layers", 1, &layers, err) < 0)
                return -EINVAL;
        size_t n = json_object_array_length(layers);
        char **v = calloc(n + 2, sizeof(*v));
        if (!v || !(v[0] = strdup(dg))) {
                free(v);
                return wh_fail(err, ENOMEM, "manifest");
        }
        for (size_t i = 0; i < n; i++) {
                const char *ld = NULL;
                if (wh_json_get_string(json_object_array_get_idx(layers, i), "layer",
                                       "digest", 1, &ld, err) < 0 ||
                    !wh_digest_valid(ld) || !(v[i + 1] = strdup(ld))) {
                        wh_strv_free(v);
                        return wh_failx(err, EINVAL, "manifest: layer %zu", i);
                }
        }
        if (!wh_digest_valid(v[0])) {
                wh_strv_free(v);
                return wh_failx(err, EINVAL, "manifest: config digest '%s'", dg);
        }
        *ret = v;
        return 0;
}

int bench_fetch(int port, const char *name, const char *dir, struct bench_fetch *ret,
                struct wh_err *err)
{
        _cleanup_free_ char *repo = strdup(name);
        if (!repo)
                return wh_fail(err, ENOMEM, "fetch");
        char *colon = strrchr(repo, ':');
        const char *tag = "latest";
        if (colon) {
                *colon = '\0';
                tag = colon + 1;
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return wh_fail(err, errno, "mkdir '%s'", dir);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "open '%s'", dir);
        _cleanup_close_ int bfd = wh_mkdir_p_at(dfd, "blobs/sha256", 0755, err);
        if (bfd < 0)
                return bfd;
        struct bench_fetch f = {0};
        _cleanup_free_ char *body = NULL;
        char mdg[WH_DIGEST_STR];
        int r = fetch_manifest(port, repo, tag, &body, mdg, &f.bytes, err);
        if (r < 0)
                return r;
        size_t mlen = strlen(body);
        char mname[128];
        snprintf(mname, sizeof(mname), "blobs/sha256/%s", wh_digest_hex(mdg));
        if ((r = write_small(dfd, mname, body, mlen, err)) < 0)
                return r;
        _cleanup_strv_ char **digests = NULL;
        if ((r = manifest_digests(body, mlen, &digests, err)) < 0)
                return wh_fail_ctx(err, r, "%s", name);
        for (char **d = digests; *d; d++) {
                if ((r = fetch_blob(port, repo, dfd, *d, &f.bytes, err)) < 0)
                        return wh_fail_ctx(err, r, "%s", name);
                f.blobs++;
        }
        if ((r = write_layout(dfd, mdg, mlen, err)) < 0)
                return r;
        *ret = f;
        return 0;
}
