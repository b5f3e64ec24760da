#!/usr/bin/env bash
# Builds Mesh and runs every test of the solution (unit, in-process cluster, end-to-end with
# real mesh-node processes). Ends with the line "N passed, N failed"; exits non-zero on any
# failure. Needs the .NET 10 SDK; NuGet packages are restored on the way.
set -uo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2
  exit 2
fi

# System tools the provider tests drive for real (runit, dpkg-deb, ...), one Debian package per
# line in tests/apt-packages.txt: installed when missing and we are root with apt-get.
if [ -f tests/apt-packages.txt ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=$(grep -v '^#' tests/apt-packages.txt | while read -r pkg; do
    [ -n "$pkg" ] && ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" && echo "$pkg"
  done)
  if [ -n "$missing" ]; then
    echo "test.sh: installing $(echo $missing)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing) >/dev/null ||
      echo "test.sh: could not install $(echo $missing); tests that need them will say so"
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="TestResults"
rm -rf "$results"

# Beside the build, each into its own artifacts directory: the programs the end-to-end tests
# start hundreds of times, compiled ahead as the package ships them. The CLI (NativeAOT, the
# same publish packaging/build-deb.sh makes, so the package test reuses it) starts in
# milliseconds where the JIT-compiled assembly costs ~0.4 s of CPU a run; the node, compiled
# ReadyToRun, spends ~0.8 s less CPU starting. On a two-core machine the suite is CPU-bound.
dotnet publish src/Cli -c Release -r linux-x64 -p:PublishAot=true -p:StripSymbols=true -p:DebugType=none \
  --artifacts-path packaging/obj/artifacts -o packaging/obj/test-cli --disable-build-servers -nologo -v quiet >/dev/null &
cli_job=$!
dotnet publish src/Node -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:DebugType=none \
  --artifacts-path packaging/obj/artifacts-test-node -o packaging/obj/test-node --disable-build-servers -nologo -v quiet >/dev/null &
node_job=$!

if ! dotnet build Mesh.sln -c Release -nologo -v quiet; then
  kill "$cli_job" "$node_job" 2>/dev/null
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

wait "$cli_job" && export MESH_CLI="$PWD/packaging/obj/test-cli/mesh" ||
  echo "test.sh: the ahead-of-time CLI did not build; the tests run the CLI assembly under dotnet"
wait "$node_job" && export MESH_NODE="$PWD/packaging/obj/test-node/mesh-node.dll" ||
  echo "test.sh: the ReadyToRun node did not build; the tests run the build's node"

dotnet test Mesh.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?

# Sum the counters of every test run (one .trx per test project).
read -r passed failed < <(
  cat "$results"/*.trx 2>/dev/null |
    grep -o '<Counters [^>]*>' |
    sed -E 's/.* passed="([0-9]+)".* failed="([0-9]+)".*/\1 \2/' |
    awk '{p += $1; f += $2} END {print p + 0, f + 0}'
)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

# The failures again, by name with their first message line, so the end of the output says
# what broke even when only its tail is kept.
if [ "$failed" -gt 0 ]; then
  echo "failed:"
  cat "$results"/*.trx 2>/dev/null | awk '
    /<UnitTestResult / && /outcome="Failed"/ {
      match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11); want = 1; next }
    want && /<Message>/ {
      line = $0; sub(/.*<Message>/, "", line); sub(/<\/Message>.*/, "", line)
      printf "  %s\n      %s\n", name, substr(line, 1, 300); want = 0 }'
fi
echo "$passed passed, $failed failed"
exit $status
