# shellcheck shell=bash
# Docker for the container tests; sourced by .ci/run.
#
#   ci_docker_start   install docker.io/debootstrap/docker-registry if missing, start dockerd
#                     unless an engine already answers, build the stand-in base
#   ci_docker_stop    stop dockerd, only if ci_docker_start started it
#
# Runs as root from a fresh clone, with CI=true and no stdin.

_ci_docker_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_ci_docker_cache="${_ci_docker_repo}/.cache"
_ci_docker_pid=""

_ci_docker_log() { printf '[docker] %s\n' "$*" >&2; }

_ci_docker_apt() {
  local missing=()
  command -v docker >/dev/null || missing+=(docker.io)
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  # The release tests push to and pull from a registry on 127.0.0.1 (tests/support/registry.py).
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  _ci_docker_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2
}

_ci_docker_wait() {
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

_ci_docker_launch() {
  local driver="$1"
  local data_root="${_ci_docker_cache}/docker-${driver}"
  mkdir -p "$data_root"
  _ci_docker_log "starting dockerd (storage driver ${driver}, log .cache/dockerd.log)"
  dockerd --iptables=false --bridge=none --storage-driver="$driver" \
    --data-root "$data_root" --pidfile "${_ci_docker_cache}/dockerd.pid" \
    </dev/null >>"${_ci_docker_cache}/dockerd.log" 2>&1 &
  _ci_docker_pid=$!
  if _ci_docker_wait "$_ci_docker_pid"; then
    return 0
  fi
  kill "$_ci_docker_pid" 2>/dev/null && wait "$_ci_docker_pid" 2>/dev/null
  _ci_docker_pid=""
  return 1
}

ci_docker_start() {
  mkdir -p "$_ci_docker_cache"
  _ci_docker_apt || { _ci_docker_log "could not install docker.io/debootstrap/docker-registry"; return 1; }
  if docker info >/dev/null 2>&1; then
    _ci_docker_log "an engine already answers: using it"
  else
    _ci_docker_launch overlay2 || _ci_docker_launch vfs || {
      _ci_docker_log "dockerd did not start; last lines of .cache/dockerd.log:"
      tail -n 20 "${_ci_docker_cache}/dockerd.log" >&2
      return 1
    }
    _ci_docker_log "dockerd ready (pid ${_ci_docker_pid})"
  fi
  bash "${_ci_docker_repo}/tests/support/standin_base.sh" trixie 24 </dev/null >/dev/null
}

ci_docker_stop() {
  [[ -n "$_ci_docker_pid" ]] || return 0
  _ci_docker_log "stopping dockerd (pid ${_ci_docker_pid})"
  kill "$_ci_docker_pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$_ci_docker_pid" 2>/dev/null || break
    sleep 1
  done
  wait "$_ci_docker_pid" 2>/dev/null || true
  _ci_docker_pid=""
}
