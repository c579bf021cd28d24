#!/bin/sh
# scepd success_script example: the router manual's IPsec setup. Puts the
# enrolled key and certificate into the IPsec settings as the Local Private
# Key and Local Certificate, then restarts IPsec.
#
#   success_script = /usr/share/doc/scepd/examples/ipsec-success.sh
#
# Reads SCEP_EVENT and SCEP_DATA_DIR (see docs/daemon.md; scep_replace_pem
# takes the files from SCEP_DATA_DIR and is found in PATH, which scepd puts
# its own directory first in). Overrides, for tests and other layouts:
#   IPSEC_SETTINGS  the settings file (default /etc/settings.ipsec)
#   IPSEC_INIT      the init script restarted (default /etc/init.d/ipsec)
set -eu

settings=${IPSEC_SETTINGS:-/etc/settings.ipsec}
init=${IPSEC_INIT:-/etc/init.d/ipsec}

case ${SCEP_EVENT:-} in
  enrolled | renewed) ;;
  *)
    echo "ipsec-success: not after a failure (SCEP_EVENT=${SCEP_EVENT:-}); nothing to do" >&2
    exit 0
    ;;
esac

scep_replace_pem "$settings" IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert
"$init" restart
