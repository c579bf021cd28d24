#!/bin/sh
# scepd success_script example: strongSwan with swanctl. Installs the new
# key, certificate and CA chain where charon's vici plugin looks for them,
# then loads them without a restart:
#   SWANCTL_DIR/private/scepd[-NAME].key      mode 0600
#   SWANCTL_DIR/x509/scepd[-NAME].crt         mode 0644
#   SWANCTL_DIR/x509ca/scepd[-NAME]-ca-N.crt  mode 0644, one per chain file
# and `swanctl --load-creds`. Reference them in swanctl.conf, e.g.
#   local { auth = pubkey  certs = scepd.crt }
#
# Reads SCEP_EVENT, SCEP_KEY, SCEP_CERT, SCEP_CA (space-separated files) and
# SCEP_NAME (see docs/daemon.md). Override: SWANCTL_DIR (default
# /etc/swanctl).
set -eu

dir=${SWANCTL_DIR:-/etc/swanctl}
name=scepd${SCEP_NAME:+-$SCEP_NAME}

case ${SCEP_EVENT:-} in
  enrolled | renewed) ;;
  *)
    echo "strongswan-swanctl-success: not after a failure; nothing to do" >&2
    exit 0
    ;;
esac
: "${SCEP_KEY:?SCEP_KEY not set}" "${SCEP_CERT:?SCEP_CERT not set}"

# install_file SRC DST MODE: DST replaced atomically (temporary file in its
# directory, synced, renamed), never readable by others before the chmod.
install_file() {
  tmp=$(mktemp "$2.XXXXXX")
  if ! cat "$1" >"$tmp" || ! chmod "$3" "$tmp"; then
    rm -f "$tmp"
    echo "strongswan-swanctl-success: cannot write $2" >&2
    exit 1
  fi
  sync "$tmp" 2>/dev/null || :
  mv -f "$tmp" "$2"
}

umask 077
mkdir -p "$dir/private" "$dir/x509" "$dir/x509ca"
chmod 0700 "$dir/private"

install_file "$SCEP_KEY" "$dir/private/$name.key" 0600
install_file "$SCEP_CERT" "$dir/x509/$name.crt" 0644
n=0
for ca in ${SCEP_CA:-}; do
  install_file "$ca" "$dir/x509ca/$name-ca-$n.crt" 0644
  n=$((n + 1))
done
# A shorter chain than last time: drop the files left over.
while [ -e "$dir/x509ca/$name-ca-$n.crt" ]; do
  rm -f "$dir/x509ca/$name-ca-$n.crt"
  n=$((n + 1))
done

swanctl --load-creds
