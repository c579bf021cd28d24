#!/bin/sh
# check-cert.sh: the router's periodic certificate check, run by cron
# without arguments, e.g.  5 0 * * * root /opt/scepClient/bin/check-cert.sh
#
# - automation disabled ([scepd] enabled = no): a log line, exit 0;
# - scepd running (run_dir/scepd.pid names a live scepd): SIGUSR1 ("check
#   now"), then wait, at most CHECK_CERT_TIMEOUT seconds, until every
#   certificate's status file has been rewritten and says "not running";
# - scepd not running: `scepd -c CONF --once`, its exit code passed on.
#
# Exit codes: 0 certificate valid or enrolled (or nothing to do), 1 the
# check failed (or scepd is missing, or the settings cannot be read),
# 3 scepd was still busy when CHECK_CERT_TIMEOUT ran out; with --once, any
# other code of scepd (75, 78) as it is.
#
# Only one check runs at a time: a second check-cert.sh finding the lock
# taken logs "check already in progress" and exits 0 at once (it does not
# wait: a --once run can wait hours for a manual approval, and cron must not
# pile up). The lock is flock(1) on run_dir/check-cert.lock when flock
# exists, else the directory run_dir/check-cert.lock.d holding the owner's
# pid (removed when that process is gone).
#
# Environment: SCEPD_CONF (default /etc/scepd.conf), CHECK_CERT_TIMEOUT
# (seconds, default 120), SCEPD (the scepd binary; default: next to this
# script, in ../sbin, in PATH, in /usr/sbin or /usr/local/sbin). Reference: docs/check-cert.md. POSIX sh; runs under
# dash and busybox ash.
set -u

# The project's version, filled in when the script is installed (CMake's
# configure_file); --version prints it with the licence.
version=@PROJECT_VERSION@
if [ "${1-}" = --version ]; then
  printf "scepd's check-cert.sh %s\nLicense: Apache-2.0\n" "$version"
  exit 0
fi

prog=check-cert
conf=${SCEPD_CONF:-/etc/scepd.conf}
timeout=${CHECK_CERT_TIMEOUT:-120}

log() {
  printf '%s: %s\n' "$prog" "$1" >&2
  if command -v logger >/dev/null 2>&1; then
    logger -t check-cert "$1" 2>/dev/null || :
  fi
}

# conf_value SECTION KEY: the value of KEY in [SECTION] of the settings
# (last one wins), nothing when absent. Indented lines continue a previous
# value and are never keys; comments are whole lines.
conf_value() {
  LC_ALL=C awk -v want_section="$1" -v want_key="$2" '
    { sub(/\r$/, "") }
    /^[ \t]/ { next }
    /^[;#]/ || /^$/ { next }
    /^\[/ {
      s = $0; sub(/^\[[ \t]*/, "", s); sub(/[ \t]*\][ \t]*$/, "", s); sec = s; next
    }
    sec == want_section {
      e = index($0, "="); c = index($0, ":")
      if (e == 0 || (c > 0 && c < e)) e = c
      if (e == 0) next
      k = substr($0, 1, e - 1); v = substr($0, e + 1)
      sub(/[ \t]+$/, "", k); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
      if (k == want_key) { val = v; found = 1 }
    }
    END { if (found) print val }
  ' <"$conf" 2>/dev/null
}

# The status file of each certificate section: status for [certificate],
# status-NAME for [certificate NAME]; one per line.
status_files() {
  LC_ALL=C awk -v dir="$run_dir" '
    { sub(/\r$/, "") }
    /^\[[ \t]*certificate[ \t]*\][ \t]*$/ { print dir "/status"; next }
    /^\[[ \t]*certificate[ \t]+[^] \t]+[ \t]*\][ \t]*$/ {
      s = $0; sub(/^\[[ \t]*certificate[ \t]+/, "", s); sub(/[ \t]*\][ \t]*$/, "", s)
      print dir "/status-" s
    }
  ' <"$conf" 2>/dev/null
}

case $timeout in
  '' | *[!0-9]*)
    log "CHECK_CERT_TIMEOUT must be a number of seconds, not '$timeout'"
    exit 1
    ;;
esac

if ! [ -r "$conf" ]; then
  log "cannot read the settings $conf"
  exit 1
fi

enabled=$(conf_value scepd enabled)
case $enabled in
  [Yy][Ee][Ss] | [Tt][Rr][Uu][Ee] | [Oo][Nn] | 1) ;;
  *)
    log "automation disabled (enabled = ${enabled:-no} in $conf): nothing to check"
    exit 0
    ;;
esac

run_dir=$(conf_value scepd run_dir)
[ -n "$run_dir" ] || run_dir=/var/run/scepClient
if ! mkdir -p "$run_dir" 2>/dev/null; then
  log "cannot create run_dir $run_dir"
  exit 1
fi

# ---- one check at a time ----------------------------------------------------

lock_dir=
ref_files=
trap '[ -z "$lock_dir" ] || rm -rf "$lock_dir"; for f in $ref_files; do rm -f "$f"; done' EXIT
trap 'exit 1' HUP INT TERM

# pid_is_check_cert PID: PID is alive and is a check-cert.sh.
pid_is_check_cert() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/cmdline" ] || return 0
  tr '\000' ' ' <"/proc/$1/cmdline" | grep -q check-cert
}

if command -v flock >/dev/null 2>&1; then
  # A failing redirection on exec would end the shell before it can log.
  if ! touch "$run_dir/check-cert.lock" 2>/dev/null; then
    log "cannot open the lock file $run_dir/check-cert.lock"
    exit 1
  fi
  exec 9>>"$run_dir/check-cert.lock"
  if ! flock -n 9; then
    log "check already in progress (another check-cert.sh holds $run_dir/check-cert.lock)"
    exit 0
  fi
else
  dir=$run_dir/check-cert.lock.d
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    if mkdir "$dir" 2>/dev/null; then
      lock_dir=$dir
      echo "$$" >"$dir/pid"
      break
    fi
    owner=$(cat "$dir/pid" 2>/dev/null)
    if [ -z "$owner" ]; then
      # Just created, pid not written yet; or left by a crash right then.
      sleep 1
      owner=$(cat "$dir/pid" 2>/dev/null)
    fi
    if [ -n "$owner" ] && pid_is_check_cert "$owner"; then
      log "check already in progress (check-cert.sh pid $owner holds $dir)"
      exit 0
    fi
    if [ "$attempt" -ge 3 ]; then
      log "cannot take the lock $dir"
      exit 1
    fi
    # Stale: its owner is gone. Look once more right before removing it, so
    # a lock just retaken by another check is left alone.
    if [ "$(cat "$dir/pid" 2>/dev/null)" = "$owner" ]; then
      log "removing the stale lock $dir (pid ${owner:-none} is gone)"
      rm -rf "$dir"
    fi
  done
fi

# ---- is scepd running? --------------------------------------------------------

pid=
if [ -r "$run_dir/scepd.pid" ]; then
  read -r pid <"$run_dir/scepd.pid" 2>/dev/null || :
  case $pid in
    '' | *[!0-9]*) pid= ;;
  esac
fi
running=no
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  if [ -r "/proc/$pid/comm" ]; then
    comm=
    read -r comm <"/proc/$pid/comm" 2>/dev/null || :
    argv0=$(tr '\000' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1)
    if [ "$comm" = scepd ] || [ "${argv0##*/}" = scepd ]; then
      running=yes
    fi
  else
    running=yes  # no /proc: trust the pid file
  fi
fi

# ---- scepd not running: one check of our own ----------------------------------

if [ "$running" = no ]; then
  scepd=${SCEPD:-}
  case $scepd in
    '' | */*) ;;
    *) scepd=$(command -v "$scepd" 2>/dev/null) || scepd=${SCEPD:-} ;;
  esac
  if [ -z "$scepd" ]; then
    # Beside us (the router's /opt/scepClient/bin), ../sbin (a package's
    # /usr/bin + /usr/sbin), PATH, then sbin directories cron's PATH lacks.
    here=$(dirname "$0")
    for candidate in "$here/scepd" "$here/../sbin/scepd" "$(command -v scepd 2>/dev/null)" \
      /usr/sbin/scepd /usr/local/sbin/scepd; do
      if [ -n "$candidate" ] && [ -f "$candidate" ] && [ -x "$candidate" ]; then
        scepd=$candidate
        break
      fi
    done
  fi
  if [ -z "$scepd" ] || ! [ -x "$scepd" ]; then
    log "scepd is not running and the scepd program was not found (set SCEPD)"
    exit 1
  fi
  [ -z "$pid" ] || log "stale pid file $run_dir/scepd.pid (pid $pid is not scepd)"
  log "scepd is not running: checking with $scepd --once"
  # fd 9 (the lock) is not passed on: a service restarted by the success
  # script must not keep the lock after we are gone.
  "$scepd" -c "$conf" --once 9>&-
  rc=$?
  case $rc in
    0) log "check done: certificate valid or enrolled" ;;
    1) log "check failed (scepd --once exit 1)" ;;
    *) log "scepd --once exited with $rc" ;;
  esac
  exit "$rc"
fi

# ---- scepd running: SIGUSR1 and wait for the status ---------------------------

files=$(status_files)
[ -n "$files" ] || files=$run_dir/status

# json_field FILE KEY: the string value of "KEY" in a status.json.
json_field() {
  sed -n "s/^[ 	]*\"$2\": \"\\([^\"]*\\)\".*/\\1/p" "$1" 2>/dev/null | head -n 1
}

# A hard link to each current status.json keeps its inode alive, so a
# rewrite (a rename of a new file) is seen as a different file even when the
# content happens to be the same. Without hard links, compare content.
n=0
for f in $files; do
  n=$((n + 1))
  ref=$run_dir/.check-cert.$$.$n
  [ -f "$f.json" ] || continue
  if ln "$f.json" "$ref.link" 2>/dev/null; then
    ref_files="$ref_files $ref.link"
  elif cp "$f.json" "$ref.copy" 2>/dev/null; then
    ref_files="$ref_files $ref.copy"
  fi
done

if [ "$(head -n 1 "$run_dir/status" 2>/dev/null)" = "Module scepClient disabled" ]; then
  log "scepd (pid $pid) runs with automation disabled (settings changed without a reload?): nothing to check"
  exit 0
fi

if ! kill -USR1 "$pid" 2>/dev/null; then
  log "cannot signal scepd (pid $pid)"
  exit 1
fi
log "asked scepd (pid $pid) to check now; waiting up to ${timeout}s"

# Ticks of 0.2 s where sleep takes fractions, else of 1 s.
if sleep 0.01 2>/dev/null; then
  tick=0.2 ticks=$((timeout * 5))
else
  tick=1 ticks=$timeout
fi

# inode FILE: its inode number (ls -i is POSIX; test -ef is not).
inode() {
  # shellcheck disable=SC2012 # one known file name; only the number is used
  ls -di "$1" 2>/dev/null | awk '{ print $1 }'
}

# finished FILE N: the N-th status file was rewritten since the signal and
# says the module is not running.
finished() {
  [ -f "$1.json" ] || return 1
  r=$run_dir/.check-cert.$$.$2
  if [ -e "$r.link" ] && [ "$(inode "$1.json")" = "$(inode "$r.link")" ]; then
    return 1
  fi
  # A copy (no hard links here): the content must have changed.
  if [ -e "$r.copy" ] && cmp -s "$1.json" "$r.copy"; then
    return 1
  fi
  [ "$(json_field "$1.json" module)" = "not running" ]
}

i=0
while :; do
  done_all=yes
  n=0
  for f in $files; do
    n=$((n + 1))
    finished "$f" "$n" || done_all=no
  done
  [ "$done_all" = yes ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    log "scepd (pid $pid) exited during the check"
    exit 1
  fi
  if [ "$i" -ge "$ticks" ]; then
    log "scepd is still checking after ${timeout}s (see its status)"
    exit 3
  fi
  sleep "$tick"
  i=$((i + 1))
done

rc=0
for f in $files; do
  state=$(json_field "$f.json" state)
  cert=$(sed -n 2p "$f" 2>/dev/null)
  case $state in
    idle | clockwait) ;;
    backoff)
      rc=1
      ;;
    *)
      case $cert in
        "Certificate enrolled"*) ;;
        *) rc=1 ;;
      esac
      ;;
  esac
  error=$(json_field "$f.json" last_error)
  if [ "$state" = backoff ]; then
    log "${f##*/}: check failed: ${error:-see the scepd log}"
  else
    log "${f##*/}: ${cert:-no status} ($state)"
  fi
done
exit "$rc"
