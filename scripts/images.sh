#!/usr/bin/env bash
# `make images`: builds the api image (the worker runs it too) and the frontend image.
#   scripts/images.sh [SOURCE_DIR] [TAG]
# SOURCE_DIR defaults to this checkout (the test of the upgrade guide passes a worktree of an
# older revision); TAG defaults to $PRINTSTASH_VERSION, else `latest`. Images are tagged as
# docker-compose.yml names them: ghcr.io/xiao-villamor/printstash-{api,frontend}:TAG.
#
# Engine: docker where an engine answers, else podman (with scripts/containers/containers.conf).
# Base images: the public ones by default with docker; with podman, local stand-ins made from
# Debian packages by scripts/base-images.sh (this project's machines reach no image registry).
# PRINTSTASH_BASE_IMAGES=public|local chooses; PYTHON_IMAGE, NODE_IMAGE and NGINX_IMAGE name
# others (a registry mirror).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "${1:-$HERE/..}" && pwd)
TAG=${2:-${PRINTSTASH_VERSION:-latest}}
REGISTRY=ghcr.io/xiao-villamor

if [ -z "${ENGINE:-}" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
fi
export ENGINE
if [ "$ENGINE" = podman ]; then
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$HERE/containers/containers.conf}
  # podman's default (OCI) format drops HEALTHCHECK; stand-ins are never pulled.
  FORMAT=(--format docker --pull=never)
  BASE=${PRINTSTASH_BASE_IMAGES:-local}
else
  FORMAT=()
  BASE=${PRINTSTASH_BASE_IMAGES:-public}
fi
if [ "$BASE" = local ]; then
  for arg in $("$HERE/base-images.sh"); do export "${arg?}"; done
fi
PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.11-slim-bookworm}
NODE_IMAGE=${NODE_IMAGE:-node:20-bookworm-slim}
NGINX_IMAGE=${NGINX_IMAGE:-nginx:1.27-bookworm}

build() {
  local name=$1 file=$2 start=$SECONDS
  shift 2
  $ENGINE build "${FORMAT[@]}" --network host "$@" \
    -t "$REGISTRY/printstash-$name:$TAG" -f "$SRC/$file" "$SRC" >&2
  local bytes
  bytes=$($ENGINE image inspect --format '{{.Size}}' "$REGISTRY/printstash-$name:$TAG")
  echo "$REGISTRY/printstash-$name:$TAG $((bytes / 1000000)) MB, built in $((SECONDS - start)) s"
}

build api Dockerfile.api --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE"
build frontend Dockerfile.frontend --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NGINX_IMAGE=$NGINX_IMAGE"
