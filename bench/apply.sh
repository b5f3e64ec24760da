#!/usr/bin/env bash
# bench/apply.sh [COUNT=1000] — Mesh's converge engine on COUNT file resources, beside
# CFEngine and Puppet doing the same files in the same run (when installed).
#
# The scenario is the one of the anchor scripts (shared/anchors/*-apply.sh): file i is
# f%05d.conf, mode 0644, content "anchor-file-<i>\nvalue=<i*7919 % 100000>\n"; each repetition
# starts from an empty directory and runs
#   first  create all COUNT files        noop   nothing to do
#   drift  after 10 files were damaged: 4 content changed, 3 chmod 0600, 3 deleted
# and verifies the tree after every run. Mesh is timed two ways:
#   cold   `mesh-node apply` as a fresh process per run (like cf-agent / puppet apply)
#   warm   the same runs inside one process, as a running node re-checks on its interval
# Environment: REPEAT (3), ANCHORS (directory of the anchor scripts; skipped when absent),
# MESH_BIN (a directory holding mesh-node and mesh as packaged, from
# `packaging/build-deb.sh --publish-only DIR`: measured instead of the development build, with
# the environment of the package's systemd unit).
set -u -o pipefail
COUNT=${1:-1000}
REPEAT=${REPEAT:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ANCHORS=${ANCHORS:-$REPO/../shared/anchors}
WORK=$(mktemp -d /tmp/mesh-bench-apply.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [[ -n ${MESH_BIN:-} ]]; then
  NODE_CMD=("$MESH_BIN/mesh-node") CLI_CMD=("$MESH_BIN/mesh")
  # The unit's Environment= lines, as systemd would set them.
  while IFS= read -r kv; do export "${kv?}"; done < <(sed -n 's/^Environment=//p' "$REPO/packaging/mesh-node.service")
else
  dotnet build "$REPO/src/Node" -c Release -nologo -v quiet >/dev/null || { echo "build failed"; exit 1; }
  dotnet build "$REPO/src/Cli" -c Release -nologo -v quiet >/dev/null || { echo "build failed"; exit 1; }
  NODE_CMD=(dotnet "$REPO/src/Node/bin/Release/net10.0/mesh-node.dll") CLI_CMD=(dotnet "$REPO/src/Cli/bin/Release/net10.0/mesh.dll")
fi

name() { printf 'f%05d.conf' "$1"; }
content() { printf 'anchor-file-%d\nvalue=%d\n' "$1" $(( $1 * 7919 % 100000 )); }

# The manifest and the reference tree.
{
  echo "manifest: bench"
  echo "resources:"
  for ((i = 1; i <= COUNT; i++)); do
    printf '  - { id: f%05d, type: file, path: /%s, mode: "0644", content: "anchor-file-%d\\nvalue=%d\\n" }\n' \
      "$i" "$(name "$i")" "$i" $(( i * 7919 % 100000 ))
  done
} >"$WORK/bench.yaml"
mkdir -p "$WORK/ref"
for ((i = 1; i <= COUNT; i++)); do content "$i" >"$WORK/ref/$(name "$i")"; done
chmod 0644 "$WORK"/ref/*

verify() {  # verify DIR: converged?
  local files wrong badmode
  files=$(find "$1" -maxdepth 1 -type f -name 'f?????.conf' | wc -l)
  wrong=$(diff -rq "$WORK/ref" "$1" 2>/dev/null | grep -vc "^Only in $1")
  badmode=$(find "$1" -maxdepth 1 -type f -name 'f?????.conf' ! -perm 0644 | wc -l)
  [[ $files -eq $COUNT && $wrong -eq 0 && $badmode -eq 0 ]] && echo ok || echo "BAD(files=$files wrong=$wrong badmode=$badmode)"
}
drift() {
  local i
  for i in 1 2 3 4; do echo drifted >"$1/$(name $i)"; done
  for i in 5 6 7; do chmod 0600 "$1/$(name $i)"; done
  for i in 8 9 10; do rm -f "$1/$(name $i)"; done
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
wall() {  # wall CMD...: seconds, with the command's output in $WORK/out
  local start end
  start=$(date +%s%N); "$@" >"$WORK/out" 2>&1; local rc=$?
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.3f", (e - s) / 1e9}'
  return $rc
}

echo "== Mesh $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) (${MESH_BIN:+packaged }${MESH_BIN:-development build}), COUNT=$COUNT, REPEAT=$REPEAT, $(nproc) cores, $(dotnet --version) SDK"
echo "-- cold: one mesh-node apply process per run"
printf '%-6s %3s %8s %8s  %s\n' phase rep wall_s changed verify
: >"$WORK/rows"
for ((rep = 1; rep <= REPEAT; rep++)); do
  tgt="$WORK/t$rep"; rm -rf "$tgt" "$WORK/d$rep"; mkdir -p "$tgt"
  for phase in first noop drift; do
    [[ $phase == drift ]] && drift "$tgt"
    s=$(wall "${NODE_CMD[@]}" apply "$WORK/bench.yaml" --root "$tgt" --data-dir "$WORK/d$rep")
    changed=$(sed -nE 's/.*ok, ([0-9]+) changed.*/\1/p' "$WORK/out" | head -1)
    printf '%-6s %3d %8s %8s  %s\n' "$phase" "$rep" "$s" "${changed:-?}" "$(verify "$tgt")" | tee -a "$WORK/rows"
  done
done
for phase in first noop drift; do
  printf '%-6s median wall %s s\n' "$phase" "$(awk -v p="$phase" '$1 == p {print $3}' "$WORK/rows" | median)"
done

echo "-- warm: the engine inside one process (what a running node does on each re-check)"
tgt="$WORK/warm"; mkdir -p "$tgt"
"${NODE_CMD[@]}" apply "$WORK/bench.yaml" --root "$tgt" --data-dir "$WORK/dw" >/dev/null
"${NODE_CMD[@]}" apply "$WORK/bench.yaml" --root "$tgt" --data-dir "$WORK/dw" --repeat 11 >"$WORK/warm.out"
tail -n 10 "$WORK/warm.out" | sed -nE 's/.* in ([0-9.]+) ms \(([0-9]+) resources\/s\).*/\1 \2/p' >"$WORK/warm.rates"
echo "no-op re-check of $COUNT files, runs 2-11: median $(cut -d' ' -f1 "$WORK/warm.rates" | median) ms, $(cut -d' ' -f2 "$WORK/warm.rates" | median) resources/s"
# Drift repair in a warm process: damage, then one re-check (repeat 2 = a no-op, then the repair run is timed separately).
drift "$tgt"
"${NODE_CMD[@]}" apply "$WORK/bench.yaml" --root "$tgt" --data-dir "$WORK/dw" --repeat 2 >"$WORK/warm-drift.out"
echo "drift repair of 10 files (warm, first run after the damage): $(sed -nE '1s/.*ok, ([0-9]+) changed of [0-9]+ in ([0-9.]+) ms.*/\2 ms, \1 changed/p' "$WORK/warm-drift.out"); tree $(verify "$tgt")"

echo "-- running node: the manifest pushed to a live mesh-node (first apply), then 10 files damaged (drift repair by the node's watcher)"
api="127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf 'mesh.converge { interval = 10m, watch = on }\n' >"$WORK/node.hocon"
"${NODE_CMD[@]}" --name bench --port 0 --api "$api" --data-dir "$WORK/node" --config "$WORK/node.hocon" >"$WORK/node.log" 2>&1 &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null; rm -rf "$WORK"' EXIT
MESH="${CLI_CMD[*]} --api $api"
for ((i = 0; i < 200; i++)); do $MESH members >/dev/null 2>&1 && break; sleep 0.1; done
: >"$WORK/node.rows"
for ((rep = 1; rep <= REPEAT; rep++)); do
  # The same files under /r<rep>, after a directory resource that comes first in the manifest.
  sed -e "s/^manifest: bench/manifest: bench-$rep/" -e "s| path: /f| path: /r$rep/f|" \
      -e "s|^resources:|resources:\n  - { id: dir, type: directory, path: /r$rep }|" "$WORK/bench.yaml" >"$WORK/bench-$rep.yaml"
  $MESH push "$WORK/bench-$rep.yaml" --wait --json >"$WORK/push.json" || { echo "push failed"; cat "$WORK/push.json"; }
  first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reports"][0]["durationMs"])' "$WORK/push.json")
  tgt="$WORK/node/root/r$rep"
  drift "$tgt"
  for ((i = 0; i < 300; i++)); do
    $MESH status "bench-$rep" --json >"$WORK/status.json" 2>/dev/null
    # mesh status --json: {"node": ..., "manifests": [{"manifest": ..., "report": {...}}, ...]}
    repaired=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); r=next((m.get("report") or {} for m in s.get("manifests", []) if m.get("manifest") == sys.argv[2]), {}); print(r.get("durationMs","") if r.get("drift") and r.get("changed",0) > 0 else "")' "$WORK/status.json" "bench-$rep")
    [[ -n $repaired ]] && [[ $(verify "$tgt") == ok ]] && break
    sleep 0.1
  done
  printf 'first %s ms, drift repair %s ms, tree %s\n' "$first" "${repaired:-?}" "$(verify "$tgt")" | tee -a "$WORK/node.rows"
done
echo "running node medians: first apply $(awk '{print $2}' "$WORK/node.rows" | median) ms, drift repair $(awk '{print $6}' "$WORK/node.rows" | median) ms"
kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null

for tool in cfengine puppet; do
  script="$ANCHORS/$tool-apply.sh"
  if [[ -x $script || -f $script ]] && command -v "$([[ $tool == cfengine ]] && echo cf-agent || echo puppet)" >/dev/null; then
    echo "-- $tool (same scenario, same run)"
    REPEAT=$REPEAT bash "$script" "$COUNT" | tail -n 5
  else
    echo "-- $tool: not installed or anchor script not found ($script); skipped"
  fi
done
