# Sourced by the launchers that build (layerprobe, bench/run): one build of a checkout at a time.
# Two launchers started together on a fresh clone (an agent in the background, then a client) would
# otherwise compile into the same target/ folders at once and break each other's builds.
#   build_lock ROOT   takes the lock, saying so when it has to wait; a no-op without flock(1)
#   build_unlock      releases it (before exec'ing a long-running process)

build_lock() {
  command -v flock >/dev/null || return 0
  mkdir -p "$1/target"
  exec 9>"$1/target/.build.lock"
  if ! flock -n 9; then
    echo "layerprobe: waiting for another build of this checkout to finish..." >&2
    flock 9
  fi
}

build_unlock() {
  exec 9>&-
}
