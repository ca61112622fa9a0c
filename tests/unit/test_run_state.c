/* SPDX-License-Identifier: Apache-2.0 */
/* Container state: ids, state.json round trip, status from pid + start time + fifo. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/fs_util.h"
#include "../../common/json_util.h"
#include "../../runtime/state.h"
#include "tap.h"

static void fill(struct wh_state *st, const char *id, pid_t pid, uint64_t start)
{
        memset(st, 0, sizeof(*st));
        st->id = strdup(id);
        st->bundle = strdup("/b");
        st->rootfs = strdup("/b/rootfs");
        char now[40];
        wh_state_now_rfc3339(now);
        st->created = strdup(now);
        st->owner = strdup("");
        st->pid = pid;
        st->start_time = start;
        st->use_fifo = 1;
        json_object *a = json_object_new_object();
        json_object_object_add(a, "k", json_object_new_string("v"));
        st->annotations = a;
}

static void test_ids(void)
{
        ok(wh_state_id_valid("abc-DEF_1.2+3"), "ordinary id");
        ok(!wh_state_id_valid(""), "empty id");
        ok(!wh_state_id_valid("."), "'.'");
        ok(!wh_state_id_valid(".."), "'..'");
        ok(!wh_state_id_valid("a/b"), "slash");
        ok(!wh_state_id_valid("a b"), "space");
        char big[1100];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ok(!wh_state_id_valid(big), "over 1024 bytes");
}

static void test_time(void)
{
        char t[40];
        wh_state_now_rfc3339(t);
        regex_t re;
        regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$",
                REG_EXTENDED | REG_NOSUB);
        ok(regexec(&re, t, 0, NULL, 0) == 0, "RFC 3339 with nanoseconds: %s", t);
        regfree(&re);
}

static void test_round_trip(const char *root)
{
        struct wh_err err = { 0 };
        int rfd = wh_state_open_root(root, 1, &err);
        ok(rfd >= 0, "open (create) the root: %s", err.msg);
        int dfd = wh_state_create_dir(rfd, "c1", &err);
        ok(dfd >= 0, "create the container dir");
        int again = wh_state_create_dir(rfd, "c1", &err);
        ok(again == -EEXIST && strstr(err.msg, "container with given ID already exists"),
           "a second create: runc's phrase");

        uint64_t me = wh_state_proc_start_time(getpid());
        ok(me > 0, "our own start time");
        struct wh_state st;
        fill(&st, "c1", getpid(), me);
        is_int(wh_state_save(dfd, &st, &err), 0, "save");
        struct wh_state back = { 0 };
        is_int(wh_state_load(rfd, "c1", &back, &err), 0, "load");
        is_str(back.id, "c1", "id survives");
        is_str(back.created, st.created, "created survives");
        is_int(back.pid, getpid(), "pid survives");
        ok(back.start_time == me, "start time survives");
        ok(back.annotations && json_object_object_length(back.annotations) == 1,
           "annotations survive");

        is_int(wh_state_status(rfd, &back), WH_STATUS_RUNNING, "live pid, no fifo: running");
        mkfifoat(dfd, "exec.fifo", 0600);
        is_int(wh_state_status(rfd, &back), WH_STATUS_CREATED, "live pid with fifo: created");
        back.start_time++;
        is_int(wh_state_status(rfd, &back), WH_STATUS_STOPPED,
               "another start time (a reused pid): stopped");
        back.start_time--;

        json_object *o = wh_state_to_oci(&back, WH_STATUS_CREATED);
        json_object *v;
        ok(json_object_object_get_ex(o, "status", &v) &&
                   !strcmp(json_object_get_string(v), "created"),
           "OCI state: status");
        ok(json_object_object_get_ex(o, "ociVersion", &v), "OCI state: ociVersion");
        ok(json_object_object_get_ex(o, "rootfs", &v), "OCI state: rootfs");
        json_object_put(o);
        o = wh_state_to_oci(&back, WH_STATUS_STOPPED);
        ok(json_object_object_get_ex(o, "pid", &v) && json_object_get_int(v) == 0,
           "stopped reports pid 0");
        json_object_put(o);

        struct wh_state none = { 0 };
        ok(wh_state_load(rfd, "nope", &none, &err) == -ENOENT &&
                   strstr(err.msg, "container does not exist"),
           "unknown id: runc's phrase");
        ok(wh_state_load(rfd, "../etc", &none, &err) == -ENOENT, "an invalid id never opens");

        wh_state_release(&back);
        wh_state_release(&st);
        close(dfd);
        is_int(wh_state_remove(rfd, "c1"), 0, "remove");
        ok(faccessat(rfd, "c1", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "gone");
        close(rfd);
}

static void test_dead(void)
{
        pid_t child = fork();
        if (child == 0)
                _exit(0);
        uint64_t t = wh_state_proc_start_time_ex(child, 1);
        /* Wait until it is a zombie. */
        for (int i = 0; i < 200 && wh_state_proc_start_time(child) != 0; i++)
                usleep(5000);
        is_int(wh_state_proc_start_time(child), 0, "a zombie counts as dead");
        ok(wh_state_proc_start_time_ex(child, 1) == t && t > 0, "but its start time is readable");
        struct wh_state st = { .pid = child, .start_time = t };
        is_int(wh_state_status(-1, &st), WH_STATUS_STOPPED, "zombie init: stopped");
        waitpid(child, NULL, 0);
        is_int(wh_state_status(-1, &st), WH_STATUS_STOPPED, "reaped init: stopped");
        st.pid = 0;
        is_int(wh_state_status(-1, &st), WH_STATUS_STOPPED, "pid 0: stopped");
        is_str(wh_status_name(WH_STATUS_RUNNING), "running", "status names");
}

int main(void)
{
        char root[] = "/tmp/wh-state-test.XXXXXX";
        if (!mkdtemp(root))
                return 1;
        char sub[64];
        snprintf(sub, sizeof(sub), "%s/a/b", root);
        test_ids();
        test_time();
        test_round_trip(sub);
        test_dead();
        wh_rm_rf_at(AT_FDCWD, root);
        return done_testing();
}
