#!/bin/bash
# A real engine drives whittle-run: podman (Debian's) with --runtime set to
# it, on a busybox image loaded from a local oci-archive (no registry), with
# private storage (vfs) removed afterwards.
export WH_NO_WHITTLE=1
MKFIXTURE=/bin/true
. "$(dirname "$0")/lib.sh"

need_root
need podman busybox jq sha256sum tar
RUN=${WHITTLE_RUN:-$WH_BUILD/whittle-run}
[ -x "$RUN" ] || bail "$RUN is missing: run make first"

T=$WH_TMP/podman
mkdir -p "$T/rootfs/bin" "$T/rootfs/etc" "$T/rootfs/proc" "$T/rootfs/sys" "$T/rootfs/dev" \
	"$T/rootfs/tmp" "$T/oci/blobs/sha256"
cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
for a in $(busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/:/bin/sh' >"$T/rootfs/etc/passwd"
echo 'root:x:0:' >"$T/rootfs/etc/group"

# An OCI image by hand: one uncompressed layer, config, manifest, index.
blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$T/oci/blobs/sha256/$d"; echo "$d"; }
tar --numeric-owner --owner=0 --group=0 --sort=name -C "$T/rootfs" -cf "$T/layer.tar" .
L=$(blob "$T/layer.tar")
jq -n --arg d "sha256:$L" '{architecture: "amd64", os: "linux", config: {Env: ["PATH=/bin"], Cmd: ["sh"]},
  rootfs: {type: "layers", diff_ids: [$d]}}' >"$T/config.json"
C=$(blob "$T/config.json")
jq -n --arg c "sha256:$C" --argjson cs "$(stat -c %s "$T/config.json")" --arg l "sha256:$L" \
	--argjson ls "$(stat -c %s "$T/layer.tar")" '{schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$T/manifest.json"
M=$(blob "$T/manifest.json")
jq -n --arg m "sha256:$M" --argjson ms "$(stat -c %s "$T/manifest.json")" '{schemaVersion: 2,
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
  annotations: {"org.opencontainers.image.ref.name": "localhost/wh-busybox:test"}}]}' >"$T/oci/index.json"
echo '{"imageLayoutVersion": "1.0.0"}' >"$T/oci/oci-layout"
tar -C "$T/oci" -cf "$T/image.tar" .

P=(podman --root "$T/storage" --runroot "$T/run" --storage-driver vfs --cgroup-manager cgroupfs
	--events-backend file --runtime "$RUN")
pm_cleanup() {
	"${P[@]}" rm -af -t 0
	"${P[@]}" rmi -af
	grep -o " $T[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
}
at_exit pm_cleanup
LIM=(--network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMG=localhost/wh-busybox:test

ok "podman loads the oci-archive" "${P[@]}" load -i "$T/image.tar"
o=$("${P[@]}" run --rm "${LIM[@]}" "$IMG" sh -c 'echo hello; echo pid=$$; hostname' 2>&1)
like "$o" 'hello' "podman run --rm through whittle-run"
like "$o" 'pid=1' "the workload is pid 1"
"${P[@]}" run --rm "${LIM[@]}" "$IMG" sh -c 'exit 42' >/dev/null 2>&1
is "$?" 42 "the exit status reaches podman"
o=$("${P[@]}" run --rm "${LIM[@]}" "$IMG" sh -c 'ulimit -n; ulimit -u' 2>&1 | tr '\n' ' ')
is "$o" "1024 1024 " "--ulimit reaches the container"
o=$("${P[@]}" run --rm -t "${LIM[@]}" "$IMG" tty 2>&1)
like "$o" '/dev/pts/' "-t: the terminal comes through --console-socket"
ok "podman run -d" "${P[@]}" run -d --name bg "${LIM[@]}" "$IMG" sleep 100
like "$("${P[@]}" ps --format '{{.Names}} {{.Status}}')" 'bg Up' "podman ps sees it running"
o=$("${P[@]}" exec bg sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "' 2>&1)
like "$o" 'exec-ok' "podman exec"
like "$o" 'sleep 100' "podman exec joins the container"
"${P[@]}" exec bg sh -c 'exit 3' >/dev/null 2>&1
is "$?" 3 "podman exec's exit status"
ok "podman stop" "${P[@]}" stop -t 1 bg
like "$("${P[@]}" ps -a --format '{{.Names}} {{.Status}}')" 'bg Exited' "stopped"
ok "podman rm" "${P[@]}" rm bg
is "$("${P[@]}" ps -aq)" "" "no containers left"
done_testing
