#!/bin/sh
# Container entrypoint for cloudreve-sync (run by tini as PID 1's child).
#
# Starts as root only to fix up the state directory, then runs the CLI as PUID:PGID with
# setpriv, which needs no passwd entry, so any NAS user and group ID works. It ends in exec so
# that the CLI becomes tini's direct child and receives SIGTERM/SIGHUP itself.
#
# Environment:
#   PUID, PGID      user and group to run as (default 1000); 0 only with ALLOW_ROOT=1
#   UMASK           octal umask for files the sync creates (default 022)
#   CLOUDREVE_SYNC_STATE_DIR  state directory (default /state); also becomes HOME
#   CLOUDREVE_SYNC_EXEC       the command to run, split on spaces (default: the CLI in /app)
set -eu

# Exit 2, like the CLI's usage/config errors, so that scripts and restart policies treat a
# bad container setting like a bad config file.
die() {
  printf 'cloudreve-sync entrypoint: %s\n' "$*" >&2
  exit 2
}

warn() {
  printf 'cloudreve-sync entrypoint: warning: %s\n' "$*" >&2
}

# Decimal without leading zeros: setpriv reads 010 as ten, shell arithmetic as eight.
is_id() {
  case $1 in '' | *[!0-9]* | 0?*) return 1 ;; esac
  [ "${#1}" -le 10 ] && [ "$1" -le 4294967294 ]
}

umask_value=${UMASK:-022}
case $umask_value in
  [0-7] | [0-7][0-7] | [0-7][0-7][0-7] | 0[0-7][0-7][0-7]) ;;
  *) die "UMASK must be an octal number such as 022 or 0027, got '$umask_value'" ;;
esac
umask "$umask_value"

state_dir=${CLOUDREVE_SYNC_STATE_DIR:-/state}
# Exported so that the CLI uses the directory prepared here even when a config file names another.
export CLOUDREVE_SYNC_STATE_DIR="$state_dir"
export HOME="$state_dir"

# Globbing off: the command and arguments must reach exec exactly as given.
set -f
# shellcheck disable=SC2086 # CLOUDREVE_SYNC_EXEC is a command line; splitting it is the point.
set -- ${CLOUDREVE_SYNC_EXEC:-node /app/dist/cli/main.js} "$@"

if [ "$(id -u)" != 0 ]; then
  # Started with `docker run --user`: the IDs are chosen already, and cannot be changed anyway.
  if [ -n "${PUID:-}${PGID:-}" ] && [ "${PUID:-$(id -u)}:${PGID:-$(id -g)}" != "$(id -u):$(id -g)" ]; then
    warn "PUID/PGID are ignored: the container was started as user $(id -u):$(id -g)"
  fi
  mkdir -p "$state_dir" 2>/dev/null || warn "cannot create $state_dir as user $(id -u)"
  exec "$@"
fi

puid=${PUID:-1000}
pgid=${PGID:-1000}
is_id "$puid" || die "PUID must be a decimal user ID without leading zeros, such as 1000; got '$puid'"
is_id "$pgid" || die "PGID must be a decimal group ID without leading zeros, such as 1000; got '$pgid'"
if [ "$puid" = 0 ] || [ "$pgid" = 0 ]; then
  # Root would own every file it downloads into /data and could write anywhere it is mounted.
  [ "${ALLOW_ROOT:-}" = 1 ] || die "refusing to run as root (PUID=$puid, PGID=$pgid); set PUID/PGID to the owner of your data, or ALLOW_ROOT=1 if you really mean it"
fi

# Only the directory itself: it may already hold a large trash, and a recursive chown would
# also rewrite files another container or a host user shares. /data is never touched.
mkdir -p "$state_dir" || die "cannot create the state directory $state_dir"
if [ "$(stat -c '%u:%g' "$state_dir")" != "$puid:$pgid" ]; then
  chown "$puid:$pgid" "$state_dir" ||
    warn "cannot give $state_dir to $puid:$pgid (a read-only or root-squashed mount?); the sync must be able to write there"
fi
if stray=$(find "$state_dir" -mindepth 1 -maxdepth 1 ! -user "$puid" -print 2>/dev/null) && [ -n "$stray" ]; then
  warn "files in $state_dir belong to another user than PUID=$puid, e.g. $(printf '%s\n' "$stray" | head -n 1); if the sync cannot open its database, give them to $puid:$pgid or set PUID/PGID back to their owner"
fi

exec setpriv --reuid="$puid" --regid="$pgid" --clear-groups --no-new-privs -- "$@"
