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

if ! dotnet build Mesh.sln -c Release -nologo -v quiet; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# The CLI as the package ships it, compiled ahead of time (the same publish packaging/build-deb.sh
# makes, so the package test reuses it): the end-to-end tests run the CLI hundreds of times, and
# the compiled program starts in milliseconds where the JIT-compiled assembly costs ~0.4 s of CPU.
cli="$PWD/packaging/obj/test-cli"
if dotnet publish src/Cli -c Release -r linux-x64 -p:PublishAot=true -p:StripSymbols=true -p:DebugType=none \
     --artifacts-path packaging/obj/artifacts -o "$cli" --disable-build-servers -nologo -v quiet >/dev/null; then
  export MESH_CLI="$cli/mesh"
else
  echo "test.sh: the ahead-of-time CLI did not build; the tests run the CLI assembly under dotnet"
fi

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
echo "$passed passed, $failed failed"
exit $status
