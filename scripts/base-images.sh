#!/usr/bin/env bash
# Local stand-ins for the public base images that Dockerfile.api and Dockerfile.frontend start
# from, made from Debian packages, for machines that reach Debian's archive but no image
# registry (the project's CI). Same distribution (Debian bookworm) and the same paths and users
# the Dockerfiles rely on:
#   python:3.11-slim-bookworm -> Debian's python3 (3.11) with pip, `python` and no PEP 668 marker
#   node:20-bookworm-slim     -> the host's own node (>= 20; bookworm ships 18) and npm
#   nginx:1.27-bookworm       -> Debian's nginx, user nginx, conf.d/ included, logs on stdout
# They also carry the host's CA bundle (and point pip, uv and npm at it), so that builds reach
# the package registries through this machine's TLS setup; real users never build from these.
#
# Prints the build arguments that select them: PYTHON_IMAGE=... NODE_IMAGE=... NGINX_IMAGE=...
# Cached between runs, keyed by this script's content: the images (labelled with the key) in the
# engine's store, and the debootstrap root file system under $PRINTSTASH_IMAGE_CACHE.
set -euo pipefail

ENGINE=${ENGINE:-podman}
CACHE=${PRINTSTASH_IMAGE_CACHE:-$HOME/.cache/printstash-images}
KEY=$(sha256sum "$0" | cut -c1-12)
PREFIX=localhost/printstash-base
SUITE=bookworm
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
MIRROR=${DEBIAN_MIRROR:-$(grep -h -E '^(URIs:|deb ) *' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | grep -o -E 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian/? ' | head -n1 | tr -d ' ' || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

PYTHON_IMAGE=$PREFIX/python:3.11-slim-$SUITE-$KEY
NODE_IMAGE=$PREFIX/node:20-$SUITE-slim-$KEY
NGINX_IMAGE=$PREFIX/nginx:1.27-$SUITE-$KEY
DEBIAN_IMAGE=$PREFIX/debian:$SUITE-$KEY

log() { echo "base-images: $*" >&2; }
have() { $ENGINE image exists "$1" 2>/dev/null; }

# Build one image from a Containerfile on stdin, with the context directory $1.
build() {
  local tag=$1 context=$2
  have "$tag" && return 0
  log "building $tag"
  $ENGINE build --quiet --format docker --network host --label "printstash.base-images=$KEY" \
    -t "$tag" -f - "$context" >/dev/null
}

debian() {
  have "$DEBIAN_IMAGE" && return 0
  local tarball=$CACHE/$KEY/debian-$SUITE.tar
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
    local root
    root=$(mktemp -d)
    log "debootstrap $SUITE from $MIRROR (about 90 s)"
    debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 \
      || { tail -n 20 "$root.log" >&2; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    mkdir -p "$CACHE/$KEY"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root" "$root.log"
  fi
  $ENGINE import --quiet --change 'CMD ["bash"]' --change "LABEL printstash.base-images=$KEY" \
    "$tarball" "$DEBIAN_IMAGE" >/dev/null
}

# Stand-ins made by other versions of this script: their images (not the images built on them:
# they inherit the label, and rmi without --force leaves an image that is still used) and cached
# root file systems.
forget_others() {
  local old
  for old in $($ENGINE images --filter label=printstash.base-images --format '{{.Repository}}:{{.Tag}}'); do
    case $old in "$PREFIX"/*-"$KEY") ;; "$PREFIX"/*) $ENGINE rmi "$old" >/dev/null 2>&1 || true ;; esac
  done
  find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec rm -rf {} + 2>/dev/null || true
}

main() {
  forget_others
  debian
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$CA_BUNDLE" "$ctx/host-ca.crt"

  build "$PREFIX/debian-ca:$SUITE-$KEY" "$ctx" <<EOF
FROM $DEBIAN_IMAGE
COPY host-ca.crt $CA_BUNDLE
ENV PIP_CERT=$CA_BUNDLE SSL_CERT_FILE=$CA_BUNDLE NODE_EXTRA_CA_CERTS=$CA_BUNDLE LANG=C.UTF-8
EOF

  build "$PYTHON_IMAGE" "$ctx" <<EOF
FROM $PREFIX/debian-ca:$SUITE-$KEY
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3 python3-pip python3-venv python-is-python3 >/dev/null \
    && rm -rf /var/lib/apt/lists/* /usr/lib/python3*/EXTERNALLY-MANAGED
CMD ["python3"]
EOF

  # The host's node (its nodejs package, >= 20) and npm: Debian bookworm's nodejs is 18, too old
  # for Vite.
  node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
    || { log "the host's node must be >= 20"; exit 1; }
  tar -C / -cf "$ctx/nodejs.tar" usr/bin/node usr/bin/npm usr/bin/npx usr/lib/node_modules/npm
  build "$NODE_IMAGE" "$ctx" <<EOF
FROM $PREFIX/debian-ca:$SUITE-$KEY
ADD nodejs.tar /
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
    && node --version && npm --version
CMD ["node"]
EOF

  build "$NGINX_IMAGE" "$ctx" <<EOF
FROM $PREFIX/debian-ca:$SUITE-$KEY
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nginx curl wget >/dev/null \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
    && groupadd --system --gid 101 nginx \
    && useradd --system --uid 101 --gid nginx --home-dir /nonexistent --shell /bin/false nginx \
    && sed -i 's/^user .*;/user nginx;/' /etc/nginx/nginx.conf \
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF

  echo "PYTHON_IMAGE=$PYTHON_IMAGE NODE_IMAGE=$NODE_IMAGE NGINX_IMAGE=$NGINX_IMAGE"
}

main
