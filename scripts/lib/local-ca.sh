# A fresh micromdm scepserver on 127.0.0.1 for one run: sourced (bash) by
# scripts/demo.sh, bench/run.sh and bench/endurance.sh.
#
# The sourcing script provides `work` (its scratch directory), CHALLENGE and
# a `die MESSAGE` function; start_ca sets PORT, URL and ca_pid, stop_ca
# stops the server (call it from the EXIT trap). Every wait is bounded and
# only 127.0.0.1 is contacted.

ca_pid=

# http_get PORT TARGET: GET http://127.0.0.1:PORT/TARGET with bash's
# /dev/tcp (no curl needed); the raw answer on stdout.
http_get() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" >&3
    timeout 2 cat <&3
  ) 2>/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stop_pid PID [FIRST-SIGNAL]: FIRST-SIGNAL (default INT), then TERM, then
# KILL, waiting up to 10 s after each; reaps PID.
stop_pid() {
  local pid=$1 sig i
  [[ -n "$pid" ]] || return 0
  for sig in "${2:-INT}" TERM KILL; do
    kill -s "$sig" "$pid" 2>/dev/null || break
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break 2
      sleep 0.05
    done
  done
  wait "$pid" 2>/dev/null || true
}

stop_ca() {
  stop_pid "$ca_pid"
  ca_pid=
}

# start_ca ORGANIZATION: a new CA depot in $work/depot (RSA-2048, 10 years)
# and scepserver on a free port (-allowrenew 0: renewal at any time,
# -crtvalid 365, -challenge $CHALLENGE), log in $work/scepserver.log; waits
# up to 10 s per port for GetCACaps to answer.
start_ca() {
  scepserver ca -init -depot "$work/depot" -keySize 2048 -years 10 \
    -organization "$1" >/dev/null
  local attempt i
  for ((attempt = 0; attempt < 20; attempt++)); do
    PORT=$((20000 + RANDOM % 20000))
    port_in_use "$PORT" && continue
    scepserver -depot "$work/depot" -port "$PORT" -allowrenew 0 -crtvalid 365 \
      -challenge "$CHALLENGE" >"$work/scepserver.log" 2>&1 &
    ca_pid=$!
    for ((i = 0; i < 200; i++)); do # up to 10 s
      kill -0 "$ca_pid" 2>/dev/null || break
      # Answered, and by our server (not one that held the port already).
      if http_get "$PORT" '/scep?operation=GetCACaps' | grep -q POSTPKIOperation &&
        kill -0 "$ca_pid" 2>/dev/null; then
        URL="http://127.0.0.1:$PORT/scep"
        return 0
      fi
      sleep 0.05
    done
    stop_ca
    grep -q 'address already in use' "$work/scepserver.log" ||
      die "scepserver did not start: $(tail -n 5 "$work/scepserver.log")"
  done
  die "no free port found for scepserver"
}

# scepd_conf_with DIR CERTIFICATE_LINES: writes DIR/scepd.conf, the daemon's
# settings for a run on the bench (data and run directories under DIR, log
# to stderr) and one [certificate] section of CERTIFICATE_LINES.
scepd_conf_with() {
  mkdir -p "$1"
  cat >"$1/scepd.conf" <<CONF
[scepd]
enabled = yes
data_dir = $1/data
run_dir = $1/run
log_target = stderr
log_level = info
[certificate]
$2
CONF
}

# scepd_conf DIR KEYBITS [RENEW_DAYS]: writes DIR/scepd.conf for a scepd
# enrolling with the CA start_ca started (bench/run.sh, bench/router-cpu.sh).
scepd_conf() {
  scepd_conf_with "$1" "url = $URL
subject = /CN=bench-scepd-$(basename "$1")
challenge_password = $CHALLENGE
key_size = $2
renew_days = ${3:-30}
keep_old = 1"
}
