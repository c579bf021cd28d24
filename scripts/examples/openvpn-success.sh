#!/bin/sh
# scepd success_script example: OpenVPN. Installs the new key, certificate
# and CA chain for an OpenVPN client configuration, then restarts OpenVPN:
#   OPENVPN_DIR/scepd[-NAME]/client.key  mode 0600
#   OPENVPN_DIR/scepd[-NAME]/client.crt  mode 0644
#   OPENVPN_DIR/scepd[-NAME]/ca.crt      mode 0644 (the whole chain)
# Point the configuration at them:
#   key /etc/openvpn/scepd/client.key
#   cert /etc/openvpn/scepd/client.crt
#   ca /etc/openvpn/scepd/ca.crt
#
# Reads SCEP_EVENT, SCEP_KEY, SCEP_CERT, SCEP_CA (space-separated files) and
# SCEP_NAME (see docs/daemon.md). Overrides: OPENVPN_DIR (default
# /etc/openvpn), OPENVPN_INIT (the init script restarted, default
# /etc/init.d/openvpn).
set -eu

dir=${OPENVPN_DIR:-/etc/openvpn}/scepd${SCEP_NAME:+-$SCEP_NAME}
init=${OPENVPN_INIT:-/etc/init.d/openvpn}

case ${SCEP_EVENT:-} in
  enrolled | renewed) ;;
  *)
    echo "openvpn-success: not after a failure; nothing to do" >&2
    exit 0
    ;;
esac
: "${SCEP_KEY:?SCEP_KEY not set}" "${SCEP_CERT:?SCEP_CERT not set}"

umask 077
mkdir -p "$dir"
chmod 0755 "$dir"

# write_file DST MODE SRC...: the SRC files concatenated into DST, replaced
# atomically (temporary file in the same directory, synced, renamed).
write_file() {
  dst=$1 mode=$2
  shift 2
  tmp=$(mktemp "$dst.XXXXXX")
  if ! cat "$@" >"$tmp" || ! chmod "$mode" "$tmp"; then
    rm -f "$tmp"
    echo "openvpn-success: cannot write $dst" >&2
    exit 1
  fi
  sync "$tmp" 2>/dev/null || :
  mv -f "$tmp" "$dst"
}

write_file "$dir/client.key" 0600 "$SCEP_KEY"
write_file "$dir/client.crt" 0644 "$SCEP_CERT"
if [ -n "${SCEP_CA:-}" ]; then
  # shellcheck disable=SC2086 # SCEP_CA is a space-separated list of files
  write_file "$dir/ca.crt" 0644 $SCEP_CA
fi

"$init" restart
