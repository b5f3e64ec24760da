#!/usr/bin/env bash
# Builds mesh_<version>_amd64.deb: a self-contained, ReadyToRun single-file mesh-node and a
# NativeAOT mesh (the host needs no .NET), the systemd unit, /etc/mesh/cluster.hocon,
# /var/lib/mesh, shell completions and the maintainer scripts that create the mesh system user.
# Needs the .NET 10 SDK, dpkg-deb, and a C toolchain for the AOT link (gcc or clang, zlib1g-dev).
#
#   packaging/build-deb.sh [--version V] [--out DIR] [--no-ready-to-run]
#   packaging/build-deb.sh --publish-only DIR
#
# The version is --version, else the VERSION file at the repository root, else `git describe`,
# else 0.1.0. The package lands in DIR (default: the current directory); its path is the last
# line printed. --publish-only puts just the two programs, as packaged, into DIR (the bench
# measures those). --no-ready-to-run leaves mesh-node on the JIT: the same code, a slower
# start, a build minutes shorter (the package test uses it).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
version="" out="$PWD" publish_only="" ready_to_run=true
while [ $# -gt 0 ]; do
  case "$1" in
    --publish-only) publish_only="${2:?--publish-only needs a directory}"; shift 2 ;;
    --no-ready-to-run) ready_to_run=false; shift ;;
    --version) version="${2:?--version needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-deb.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

unit="$here/mesh-node.service"
if [ ! -f "$unit" ]; then
  echo "build-deb.sh: $unit is missing: the package installs that unit" >&2
  exit 2
fi
for tool in dotnet dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool is required" >&2; exit 2; }
done

if [ -z "$version" ] && [ -f "$repo/VERSION" ]; then version="$(tr -d ' \n' < "$repo/VERSION")"; fi
if [ -z "$version" ]; then
  # v1.2.0-3-gabc1234 -> 1.2.0+3.gabc1234: sorts after 1.2.0 and before 1.2.1, as dpkg compares.
  version="$(git -C "$repo" describe --tags --match 'v[0-9]*' 2>/dev/null | sed -E 's/^v//; s/-([0-9]+)-g/+\1.g/')" || true
fi
version="${version:-0.1.0}"
if ! [[ "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
  echo "build-deb.sh: '$version' is not a Debian version (digits first; then letters, digits, . + ~)" >&2
  exit 2
fi

# Build output goes under packaging/obj (git ignores it), never into src/*/bin and obj, so a
# package build neither disturbs nor is disturbed by the framework-dependent development build.
# mesh-node: a self-contained single file, its assemblies compiled ahead to native code
# (ReadyToRun) so that start-up does not wait for the JIT; not trimmed: Akka and Hyperion find
# types by reflection. mesh: NativeAOT, one native executable that starts in milliseconds.
publish_node() {
  dotnet publish "$repo/src/Node" -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true -p:PublishTrimmed=false -p:PublishReadyToRun=$ready_to_run -p:DebugType=none \
    --artifacts-path "$here/obj/artifacts" -o "$1" \
    --disable-build-servers -nologo -v quiet
}
publish_cli() {
  dotnet publish "$repo/src/Cli" -c Release -r linux-x64 -p:PublishAot=true -p:StripSymbols=true -p:DebugType=none \
    --artifacts-path "$here/obj/artifacts" -o "$1" \
    --disable-build-servers -nologo -v quiet
}
if [ -n "$publish_only" ]; then
  mkdir -p "$publish_only"
  publish_node "$publish_only"
  publish_cli "$publish_only"
  rm -f "$publish_only"/*.dbg "$publish_only"/*.pdb
  ls "$publish_only/mesh-node" "$publish_only/mesh"
  exit 0
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
deb="$out/mesh_${version}_amd64.deb"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pkg="$work/root"

echo "build-deb.sh: publishing mesh-node and mesh $version (linux-x64, self-contained)"
publish_node "$work/publish/Node"
publish_cli "$work/publish/Cli"

install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/mesh" \
  "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
  "$pkg/usr/share/fish/vendor_completions.d" "$pkg/usr/share/doc/mesh"
# Owned by the mesh user once postinst has made it.
install -d -m 0750 "$pkg/var/lib/mesh"
install -m 0755 "$work/publish/Node/mesh-node" "$work/publish/Cli/mesh" "$pkg/usr/bin/"
install -m 0644 "$unit" "$pkg/lib/systemd/system/mesh-node.service"
install -m 0644 "$here/cluster.hocon" "$pkg/etc/mesh/cluster.hocon"
install -m 0644 "$repo/README.md" "$repo/docs/OPERATIONS.md" "$pkg/usr/share/doc/mesh/"
# The completions come from the CLI just built, so they always match its commands.
"$pkg/usr/bin/mesh" completion bash > "$pkg/usr/share/bash-completion/completions/mesh"
"$pkg/usr/bin/mesh" completion zsh > "$pkg/usr/share/zsh/vendor-completions/_mesh"
"$pkg/usr/bin/mesh" completion fish > "$pkg/usr/share/fish/vendor_completions.d/mesh.fish"
chmod 0644 "$pkg"/usr/share/*/*completion*/*

cat > "$pkg/DEBIAN/control" <<EOF
Package: mesh
Version: $version
Architecture: amd64
Maintainer: Mesh maintainers <mesh@localhost>
Section: admin
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: libc6, libgcc-s1, libstdc++6, zlib1g, libssl3 | libssl1.1, passwd
Description: peer-to-peer configuration mesh for fleets of Linux hosts
 Every host runs mesh-node, a member of one cluster; manifests pushed to any
 node spread to every node they target, which applies them and reports back.
 mesh is the command-line client. Both programs are self-contained: the host
 needs no .NET runtime.
EOF
echo /etc/mesh/cluster.hocon > "$pkg/DEBIAN/conffiles"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$pkg/DEBIAN/"

# gzip rather than dpkg's default xz: xz takes minutes over two 100 MB programs, for a third
# less size; every dpkg reads gzip.
dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$deb" >/dev/null
echo "$deb"
