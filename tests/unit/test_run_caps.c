/* SPDX-License-Identifier: Apache-2.0 */
/* Capabilities: parsing process.capabilities and applying it in a child
 * that changes uid, as the container process does. Needs root. */
#include <errno.h>
#include <inttypes.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runtime/caps.h"
#include "json_util.h"
#include "tap.h"

static json_object *parse(const char *text)
{
        json_object *o = NULL;
        struct wh_err err = {0};
        if (wh_json_parse(text, strlen(text), "test", &o, &err) < 0)
                diag("bad test JSON: %s", err.msg);
        return o;
}

#define BIT(c) ((uint64_t)1 << (c))

static void test_names(void)
{
        is_int(wh_caps_from_name("CAP_NET_BIND_SERVICE"), 10, "name to number");
        is_int(wh_caps_from_name("net_admin"), 12, "without prefix, any case");
        is_int(wh_caps_from_name("CAP_NOPE"), -EINVAL, "unknown name");
        is_str(wh_caps_to_name(21), "CAP_SYS_ADMIN", "number to name");
        ok(wh_caps_to_name(63) == NULL, "unknown number has no name");
        ok(wh_caps_last_cap() >= 37 && wh_caps_last_cap() < 64, "cap_last_cap read (%d)",
           wh_caps_last_cap());
}

static void test_parse(void)
{
        struct wh_err err = {0};
        struct wh_caps c;
        _cleanup_json_ json_object *o =
                parse("{\"bounding\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
                      "\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}");
        is_int(wh_caps_parse(o, &c, &err), 0, "parse");
        ok(c.present, "present");
        is_int(c.bounding, BIT(5) | BIT(10), "bounding set");
        is_int(c.effective, BIT(5), "effective set");
        is_int(c.inheritable, 0, "a missing set is empty");
        is_int(c.ambient, 0, "ambient empty");

        is_int(wh_caps_parse(NULL, &c, &err), 0, "no capabilities object");
        ok(!c.present, "absent: nothing to change");

        _cleanup_json_ json_object *bad =
                parse("{\"effective\":[\"CAP_KILL\",\"CAP_FLY\"]}");
        c.bounding = 77;
        is_int(wh_caps_parse(bad, &c, &err), -EINVAL, "unknown name rejected");
        is_str(err.msg, "process.capabilities.effective[1]: unknown capability 'CAP_FLY'",
               "error names the field and index");
        is_int(c.bounding, 77, "output untouched on failure");

        _cleanup_json_ json_object *notstr = parse("{\"ambient\":[1]}");
        is_int(wh_caps_parse(notstr, &c, &err), -EINVAL, "non-string rejected");
        is_str(err.msg, "process.capabilities.ambient[0]: expected a string",
               "type error named");
        _cleanup_json_ json_object *notarr = parse("{\"ambient\":\"CAP_KILL\"}");
        ok(wh_caps_parse(notarr, &c, &err) < 0, "non-array rejected");
        ok(strstr(err.msg, "process.capabilities.ambient") != NULL,
           "non-array error named: %s", err.msg);
}

/* Reads the hex value of a Cap* line from /proc/<pid>/status. */
static uint64_t status_caps(pid_t pid, const char *field)
{
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        uint64_t v = UINT64_MAX;
        size_t flen = strlen(field);
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, field, flen) == 0 && line[flen] == ':')
                        v = strtoull(line + flen + 1, NULL, 16);
        if (f)
                fclose(f);
        return v;
}

/*
 * The container-process order: bounding, keepcaps, setuid, apply. The child
 * then stops itself so the parent can read its status; an exec'd program
 * proves that ambient capabilities survive exec for a non-root user.
 */
static void test_apply(void)
{
        if (geteuid() != 0) {
                ok(1, "# SKIP apply needs root");
                return;
        }
        struct wh_caps c = {.present = 1,
                            .bounding = BIT(5) | BIT(10) | BIT(12),
                            .effective = BIT(5) | BIT(10),
                            .permitted = BIT(5) | BIT(10) | BIT(12),
                            .inheritable = BIT(10),
                            .ambient = BIT(10)};
        int pfd[2];
        if (pipe(pfd) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                struct wh_err err = {0};
                close(pfd[0]);
                if (wh_caps_apply_bounding(&c, &err) < 0 ||
                    wh_caps_prepare_setuid(&c, &err) < 0 || setgid(1000) < 0 ||
                    setuid(1000) < 0 || wh_caps_apply(&c, &err) < 0) {
                        dprintf(pfd[1], "%s", err.msg);
                        _exit(1);
                }
                close(pfd[1]);
                raise(SIGSTOP);
                execl("/bin/sh", "sh", "-c", "kill -STOP $$", (char *)NULL);
                _exit(2);
        }
        close(pfd[1]);
        char msg[512] = "";
        ssize_t n = read(pfd[0], msg, sizeof(msg) - 1);
        msg[n > 0 ? n : 0] = '\0';
        close(pfd[0]);
        int st;
        waitpid(pid, &st, WUNTRACED);
        if (!ok(WIFSTOPPED(st), "child applied the sets and stopped")) {
                diag("child error: %s", msg);
                return;
        }
        is_int(status_caps(pid, "CapBnd"), c.bounding,
               "bounding set dropped to the config");
        is_int(status_caps(pid, "CapPrm"), c.permitted, "permitted kept across setuid");
        is_int(status_caps(pid, "CapEff"), c.effective, "effective set");
        is_int(status_caps(pid, "CapInh"), c.inheritable, "inheritable set");
        is_int(status_caps(pid, "CapAmb"), c.ambient, "ambient raised");

        kill(pid, SIGCONT);
        waitpid(pid, &st, WUNTRACED);
        ok(WIFSTOPPED(st), "exec'd program stopped");
        /* After exec as uid 1000: permitted and effective are the ambient set. */
        is_int(status_caps(pid, "CapEff"), c.ambient, "after exec, effective = ambient");
        is_int(status_caps(pid, "CapPrm"), c.ambient, "after exec, permitted = ambient");
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);

        /* effective beyond permitted is refused with a message. */
        struct wh_caps bad = {.present = 1,
                              .effective = BIT(21),
                              .permitted = 0,
                              .bounding = ~(uint64_t)0};
        pid = fork();
        if (pid == 0) {
                struct wh_err err = {0};
                int r = wh_caps_apply(&bad, &err);
                _exit(r == -EPERM && strstr(err.msg, "subset") ? 0 : 1);
        }
        waitpid(pid, &st, 0);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "effective not in permitted: EPERM, explained");
}

int main(void)
{
        test_names();
        test_parse();
        test_apply();
        return done_testing();
}
