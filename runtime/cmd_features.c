/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "run_cmd.h"
#include "state.h"

int wh_cmd_features(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        (void)ctx;
        (void)argv;
        if (argc != 1)
                return wh_failx(err, EINVAL, "features: takes no arguments");
        fputs("{\n"
              "  \"ociVersionMin\": \"1.0.0\",\n"
              "  \"ociVersionMax\": \"" WH_OCI_VERSION "\",\n"
              "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
              "\"startContainer\", \"poststart\", \"poststop\"],\n"
              "  \"mountOptions\": [\"async\", \"atime\", \"bind\", \"defaults\", \"dev\", "
              "\"diratime\", \"dirsync\", \"exec\", \"mand\", \"noatime\", \"nodev\", "
              "\"nodiratime\", \"noexec\", \"nomand\", \"norelatime\", \"nostrictatime\", "
              "\"nosuid\", \"private\", \"rbind\", \"relatime\", \"remount\", \"ro\", "
              "\"rprivate\", \"rro\", \"rshared\", \"rslave\", \"runbindable\", \"rw\", "
              "\"shared\", \"slave\", \"strictatime\", \"suid\", \"sync\", \"tmpcopyup\", "
              "\"unbindable\"],\n"
              "  \"linux\": {\n"
              "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", "
              "\"time\", \"user\", \"uts\"],\n"
              "    \"capabilities\": [],\n"
              "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, "
              "\"systemdUser\": false},\n"
              "    \"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\", "
              "\"SCMP_ACT_ERRNO\", \"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", "
              "\"SCMP_ACT_KILL_THREAD\", \"SCMP_ACT_LOG\", \"SCMP_ACT_TRACE\", "
              "\"SCMP_ACT_TRAP\"]},\n"
              "    \"apparmor\": {\"enabled\": false},\n"
              "    \"selinux\": {\"enabled\": false},\n"
              "    \"mountExtensions\": {\"idmap\": {\"enabled\": false}}\n"
              "  },\n"
              "  \"annotations\": {\"org.opencontainers.runc.checkpoint.enabled\": \"false\"}\n"
              "}\n",
              stdout);
        return 0;
}
