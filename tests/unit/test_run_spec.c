/* SPDX-License-Identifier: Apache-2.0 */
/* config.json parsing: valid documents and errors that name the field. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runtime/spec.h"
#include "tap.h"

static char bundle[] = "/tmp/wh-spec-test.XXXXXX";

/* Parses text; returns 0 or -errno, with the message in msg. */
static int parse(const char *text, struct wh_spec **ret, char *msg, size_t n)
{
        struct wh_err err = { 0 };
        int r = wh_spec_parse(text, strlen(text), bundle, ret, &err);
        snprintf(msg, n, "%s", err.msg);
        return r;
}

#define MIN_HEAD "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, "
#define MIN_PROC "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"

static void expect_error(const char *body, const char *want, const char *desc)
{
        struct wh_spec *s = NULL;
        char msg[WH_ERR_MAX];
        int r = parse(body, &s, msg, sizeof(msg));
        ok(r < 0 && strstr(msg, want) != NULL, "%s", desc);
        if (r >= 0 || !strstr(msg, want))
                diag("got r=%d '%s', want '%s'", r, msg, want);
        wh_spec_free(s);
}

static void test_default(void)
{
        struct wh_spec *s = NULL;
        char msg[WH_ERR_MAX];
        const char *text = wh_spec_default_config();
        int r = parse(text, &s, msg, sizeof(msg));
        is_int(r, 0, "the default config parses");
        if (r < 0) {
                diag("%s", msg);
                return;
        }
        is_str(s->process.args[0], "sh", "process.args");
        is_str(s->process.cwd, "/", "process.cwd");
        ok(s->root_readonly, "root.readonly");
        ok(s->root_path && !strncmp(s->root_path, bundle, strlen(bundle)),
           "root.path is resolved against the bundle");
        is_int(s->n_mounts, 7, "seven mounts");
        is_str(s->mounts[0].destination, "/proc", "mounts[0] is /proc");
        is_str(s->mounts[1].data, "mode=755,size=65536k", "fs options go to data");
        ok(s->mounts[1].flags & MS_NOSUID, "nosuid becomes a flag");
        ok(s->mounts[5].flags & MS_RDONLY, "ro becomes a flag");
        is_int(s->clone_flags, CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                                       CLONE_NEWNS | CLONE_NEWCGROUP,
               "namespaces become clone flags");
        is_int(s->join_flags, 0, "no namespace joined");
        is_int(s->process.n_rlimits, 1, "one rlimit");
        is_int(s->process.rlimits[0].resource, RLIMIT_NOFILE, "RLIMIT_NOFILE");
        ok(s->process.no_new_privileges, "noNewPrivileges");
        ok(s->process.capabilities != NULL, "capabilities kept for caps.h");
        is_str(s->hostname, "whittle", "hostname");
        ok(s->masked_paths && !strcmp(s->masked_paths[0], "/proc/acpi"), "maskedPaths");
        ok(s->resources != NULL, "resources kept for cgroups.h");
        wh_spec_free(s);
}

static void test_features(void)
{
        struct wh_spec *s = NULL;
        char msg[WH_ERR_MAX];
        const char *text =
                MIN_HEAD
                "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/a/./b/\", \"env\": [\"A=1\"],"
                " \"user\": {\"uid\": 5, \"gid\": 6, \"umask\": 18, \"additionalGids\": [7, 8]},"
                " \"oomScoreAdj\": -100},"
                "\"mounts\": [{\"destination\": \"/v\", \"source\": \"vol\","
                " \"options\": [\"rbind\", \"ro\", \"rslave\"]}],"
                "\"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"user\"}],"
                " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 10}],"
                " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 2000, \"size\": 1}],"
                " \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
                " \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10,"
                " \"minor\": 229}], \"rootfsPropagation\": \"shared\"}}";
        int r = parse(text, &s, msg, sizeof(msg));
        is_int(r, 0, "a config with every section parses");
        if (r < 0) {
                diag("%s", msg);
                return;
        }
        is_str(s->process.cwd, "/a/b", "cwd is cleaned");
        is_int(s->process.uid, 5, "uid");
        is_int(s->process.gid, 6, "gid");
        ok(s->process.has_umask && s->process.umask == 022, "umask");
        is_int(s->process.n_additional_gids, 2, "additionalGids");
        ok(s->process.has_oom_score_adj && s->process.oom_score_adj == -100, "oomScoreAdj");
        ok(s->mounts[0].bind, "rbind is a bind");
        ok((s->mounts[0].flags & (MS_BIND | MS_REC | MS_RDONLY)) == (MS_BIND | MS_REC | MS_RDONLY),
           "rbind,ro flags");
        is_int(s->mounts[0].propagation, MS_SLAVE | MS_REC, "rslave propagation");
        char want[256];
        snprintf(want, sizeof(want), "%s/vol", bundle);
        is_str(s->mounts[0].source, want, "relative bind source is bundle-relative");
        is_int(s->join_flags, 0, "nothing joined");
        is_int(s->clone_flags, CLONE_NEWNS | CLONE_NEWUSER, "mount and user created");
        is_str(s->uid_map, "0 1000 10\n", "uid map text");
        is_str(s->gid_map, "0 2000 1\n", "gid map text");
        is_int(s->n_sysctl, 1, "one sysctl");
        is_int(s->n_devices, 1, "one device");
        ok(s->devices[0].type == S_IFCHR && s->devices[0].major == 10 &&
                   s->devices[0].mode == 0666,
           "device type, numbers, default mode");
        is_int(s->rootfs_propagation, MS_SHARED, "rootfsPropagation");
        wh_spec_free(s);

        text = MIN_HEAD MIN_PROC ", \"linux\": {\"namespaces\": [{\"type\": \"mount\"},"
                                 " {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}]}}";
        s = NULL;
        r = parse(text, &s, msg, sizeof(msg));
        ok(r == 0 && s->join_flags == CLONE_NEWNET && s->clone_flags == CLONE_NEWNS &&
                   !strcmp(s->namespaces[1].path, "/proc/1/ns/net"),
           "a namespace joined by path");
        wh_spec_free(s);
}

static void test_errors(void)
{
        expect_error("{", "config.json: invalid JSON", "truncated JSON");
        expect_error("[]", "config.json: expected an object", "not an object");
        expect_error("{\"root\": {\"path\": \"rootfs\"}}", "config.json.ociVersion: missing",
                     "ociVersion missing");
        expect_error("{\"ociVersion\": \"2.0.0\", \"root\": {\"path\": \"rootfs\"}}",
                     "ociVersion: unsupported version", "ociVersion 2");
        expect_error("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"nope\"}}",
                     "config.json: root.path", "missing rootfs");
        expect_error(MIN_HEAD "\"process\": {\"args\": []}}", "process.args: must name a program",
                     "empty args");
        expect_error(MIN_HEAD "\"process\": {\"args\": [\"sh\"], \"cwd\": \"rel\"}}",
                     "process.cwd: must be absolute", "relative cwd");
        expect_error(MIN_HEAD "\"process\": {\"args\": [\"sh\"], \"env\": [\"NOEQUALS\"]}}",
                     "process.env[0]: expected NAME=VALUE", "env without =");
        expect_error(MIN_HEAD MIN_PROC ", \"mounts\": [{\"destination\": \"/ok\", \"type\": "
                                       "\"tmpfs\"}, {\"destination\": \"rel\", \"type\": \"tmpfs\"}],"
                                       " \"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}}",
                     "mounts[1].destination: must be absolute", "relative mount destination");
        expect_error(MIN_HEAD MIN_PROC ", \"mounts\": [{\"destination\": \"/a/../../b\", "
                                       "\"type\": \"tmpfs\"}]}",
                     "mounts[0].destination: invalid path", "'..' in a destination");
        expect_error(MIN_HEAD MIN_PROC ", \"mounts\": [{\"destination\": \"/a\"}]}",
                     "mounts[0].type: missing", "mount without type");
        expect_error(MIN_HEAD MIN_PROC ", \"mounts\": [{\"destination\": \"/a\", \"options\": "
                                       "[\"bind\"]}]}",
                     "mounts[0].source: missing for a bind mount", "bind without source");
        expect_error(MIN_HEAD MIN_PROC ", \"mounts\": [{\"destination\": \"/a\", \"type\": "
                                       "\"tmpfs\", \"options\": [\"idmap\"]}]}",
                     "mounts[0].options[0]: 'idmap' mounts are not supported", "idmap");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"namespaces\": [{\"type\": \"bogus\"}]}}",
                     "linux.namespaces[0].type: unknown namespace type 'bogus'", "bad ns type");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, "
                                       "{\"type\": \"pid\"}]}}",
                     "linux.namespaces[1].type: namespace 'pid' given twice", "ns twice");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"namespaces\": [{\"type\": \"net\", "
                                       "\"path\": \"rel\"}]}}",
                     "linux.namespaces[0].path: must be absolute", "relative ns path");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}",
                     "a new user namespace needs uidMappings", "user ns without maps");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"uidMappings\": [{\"containerID\": 0, "
                                       "\"hostID\": 0, \"size\": 1}]}}",
                     "uidMappings: given without a user namespace", "maps without user ns");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}], "
                                       "\"uidMappings\": [{\"containerID\": 0, \"hostID\": -1, "
                                       "\"size\": 1}], \"gidMappings\": []}}",
                     "linux.uidMappings[0].hostID", "negative hostID");
        expect_error(MIN_HEAD "\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"type\": "
                              "\"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 5}]}}",
                     "process.rlimits[0]: soft limit above the hard limit", "soft > hard");
        expect_error(MIN_HEAD "\"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": \"root\"}}}",
                     "process.user.uid: expected an integer", "uid as a string");
        expect_error(MIN_HEAD "\"process\": {\"args\": [\"sh\"], \"oomScoreAdj\": 5000}}",
                     "process.oomScoreAdj", "oomScoreAdj out of range");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"devices\": [{\"path\": \"/dev/x\", "
                                       "\"type\": \"c\"}]}}",
                     "linux.devices[0].major: missing", "device without major");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"sysctl\": {\"a/../b\": \"1\"}}}",
                     "linux.sysctl: invalid key", "sysctl key with a slash");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"rootfsPropagation\": \"sideways\"}}",
                     "linux.rootfsPropagation: unknown 'sideways'", "bad propagation");
        expect_error(MIN_HEAD MIN_PROC ", \"hostname\": \"h\"}",
                     "hostname: set without a uts namespace", "hostname without uts");
        expect_error(MIN_HEAD MIN_PROC ", \"mounts\": [{\"destination\": \"/a\", \"type\": "
                                       "\"tmpfs\"}]}",
                     "mounts need a mount namespace", "mounts without a mount ns");
        expect_error(MIN_HEAD MIN_PROC ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}, "
                                       "{\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}],"
                                       " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000,"
                                       " \"size\": 1}], \"gidMappings\": [{\"containerID\": 0,"
                                       " \"hostID\": 1000, \"size\": 1}]}}",
                     "joining namespaces by path together with a new user namespace",
                     "a new user ns with a joined one: refused while parsing");
}

static void test_helpers(void)
{
        unsigned long f = 0, c = 0, p = 0;
        ok(wh_spec_mount_option("nodev", &f, &c, &p) == 1 && f == MS_NODEV, "nodev");
        ok(wh_spec_mount_option("dev", &f, &c, &p) == 1 && f == 0 && (c & MS_NODEV), "dev clears");
        ok(wh_spec_mount_option("size=1m", &f, &c, &p) == 0, "data is not a flag");
        ok(wh_spec_mount_option("rprivate", &f, &c, &p) == 1 && p == (MS_PRIVATE | MS_REC),
           "rprivate");
        is_int(wh_spec_rlimit_from_name("RLIMIT_CORE"), RLIMIT_CORE, "RLIMIT_CORE");
        is_int(wh_spec_rlimit_from_name("NOFILE"), -EINVAL, "names need the RLIMIT_ prefix");
}

int main(void)
{
        if (!mkdtemp(bundle)) {
                perror("mkdtemp");
                return 1;
        }
        char root[128];
        snprintf(root, sizeof(root), "%s/rootfs", bundle);
        mkdir(root, 0755);
        test_default();
        test_features();
        test_errors();
        test_helpers();
        rmdir(root);
        rmdir(bundle);
        return done_testing();
}
