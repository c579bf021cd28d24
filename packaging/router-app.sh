#!/usr/bin/env bash
# Builds the Router App archive: the layout the router's "SCEP Client" app
# documents, from an already built tree (native or cross).
#
#   opt/scepClient/bin/scepd              the daemon
#   opt/scepClient/bin/sscep              the command line clients (one
#   opt/scepClient/bin/scep-client        multi-call binary; scep-client and
#   opt/scepClient/bin/cmp-client         cmp-client, the Tectia syntax, are
#                                         links to sscep)
#   opt/scepClient/bin/est-client         the EST command line (est-client(1))
#   opt/scepClient/bin/mkrequest          sscep's key and request script
#   opt/scepClient/bin/check-cert.sh      the cron check
#   opt/scepClient/bin/scep_replace_pem   the settings-file helper
#   opt/scepClient/etc/scepd.conf         the settings (automation off)
#   opt/scepClient/etc/scepd.router.conf  the IPsec example
#   opt/scepClient/etc/init               the init script (start, stop,
#                                         restart, reload, status)
#   opt/scepClient/www/cgi-bin/scepd.cgi  the web pages (Configuration, Status)
#   opt/scepClient/www/httpd.conf         busybox httpd example (password, LAN only)
#   opt/scepClient/www/lighttpd.conf      lighttpd example (auth, CGI)
#   opt/scepClient/LICENSE                scepd's licence (Apache-2.0)
#   opt/scepClient/licenses/NAME          the licences of inih, spdlog and
#                                         fmt when compiled in (copied from
#                                         the build machine's Debian packages)
#
# Self-contained: the binaries may need only what a router's firmware has,
# libc (with libm, libdl, libpthread, librt and the dynamic loader),
# libcrypto and libcurl (loaded on first use, io/curl_library.h). Build the
# tree with -DSCEPD_SIZE_OPT=ON -DSCEPD_STATIC_LIBSTDCXX=ON (inih, spdlog,
# fmt, libstdc++ and libgcc linked in); the script reads the ELF
# NEEDED entries of every binary it packs, lists them, and refuses any other
# library unless --any-libraries is given (a test archive of a development
# tree).
#
# Keys and certificates live in /var/data/scepClient and the status in
# /var/run/scepClient, as scepd's defaults say; nothing in the archive is
# written at run time. The init script and the two scripts are given the
# app's settings path, /opt/scepClient/etc/scepd.conf, as their default.
#
# Usage: packaging/router-app.sh [-B BUILD_DIR] [-o ARCHIVE] [--no-strip]
#                                 [--any-libraries]
#   -B BUILD_DIR     the configured and built tree (default: build)
#   -o ARCHIVE       the .tar.gz to write (default: scepClient-VERSION.tar.gz)
#   --no-strip       keep the symbols (the binaries are stripped by default)
#   --any-libraries  pack binaries that need other shared libraries, too
# Files are owned by root (0:0) in the archive; unpack with tar -C / -xzf.
set -euo pipefail

app=/opt/scepClient
build=build
out=
strip=(--strip)
any_libraries=
while [[ $# -gt 0 ]]; do
  case $1 in
    -B) build=${2:?-B needs a directory}; shift 2 ;;
    -o) out=${2:?-o needs a file}; shift 2 ;;
    --no-strip) strip=(); shift ;;
    --any-libraries) any_libraries=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "router-app: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

cache=$build/CMakeCache.txt
if [[ ! -r $cache ]]; then
  echo "router-app: $build is not a configured build tree (no CMakeCache.txt)" >&2
  exit 1
fi
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$cache")
[[ -n $out ]] || out=scepClient-${version:-unknown}.tar.gz

work=$(mktemp -d "${TMPDIR:-/tmp}/router-app.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Stage the normal install (DESTDIR keeps even absolute destinations inside
# the staging tree), then pick the app's files from it.
DESTDIR=$work/stage cmake --install "$build" --prefix /usr ${strip[@]+"${strip[@]}"} >/dev/null
stage=$work/stage
pick() {  # pick FILE...: the first staged candidate that exists
  local f
  for f in "$@"; do
    if [[ -e $stage/$f ]]; then
      echo "$stage/$f"
      return 0
    fi
  done
  echo "router-app: none of $* was installed by $build" >&2
  return 1
}

root=$work/root
install -d -m 0755 "$root$app/bin" "$root$app/etc"
install -m 0755 "$(pick usr/sbin/scepd)" "$root$app/bin/scepd"
install -m 0755 "$(pick usr/bin/sscep)" "$root$app/bin/sscep"
ln -s sscep "$root$app/bin/scep-client"
ln -s sscep "$root$app/bin/cmp-client"
install -m 0755 "$(pick usr/bin/est-client)" "$root$app/bin/est-client"
install -m 0755 "$(pick usr/bin/mkrequest)" "$root$app/bin/mkrequest"
install -m 0755 "$(pick usr/bin/check-cert.sh)" "$root$app/bin/check-cert.sh"
install -m 0755 "$(pick usr/bin/scep_replace_pem)" "$root$app/bin/scep_replace_pem"
install -m 0644 "$(pick etc/scepd.conf usr/etc/scepd.conf)" "$root$app/etc/scepd.conf"
install -m 0644 "$(pick usr/share/doc/scepd/examples/scepd.router.conf)" \
  "$root$app/etc/scepd.router.conf"
install -m 0755 "$(pick etc/init.d/scepd usr/etc/init.d/scepd)" "$root$app/etc/init"
install -d -m 0755 "$root$app/www/cgi-bin"
install -m 0755 "$(pick usr/lib/scepd/cgi-bin/scepd.cgi)" "$root$app/www/cgi-bin/scepd.cgi"
install -m 0644 "$(pick usr/share/scepd/www/httpd.conf)" "$root$app/www/httpd.conf"
install -m 0644 "$(pick usr/share/scepd/www/lighttpd.conf)" "$root$app/www/lighttpd.conf"

# set_default FILE OLD NEW: replace OLD by NEW in FILE and make sure it did.
set_default() {
  local file=$1 old=$2 new=$3
  if ! grep -qF -- "$old" "$file"; then
    echo "router-app: $file has no '$old' to point at the app's paths" >&2
    exit 1
  fi
  local tmp=$file.new
  sed "s|${old//|/\\|}|${new//|/\\|}|g" "$file" >"$tmp"
  chmod --reference="$file" "$tmp"
  mv "$tmp" "$file"
}
set_default "$root$app/etc/init" 'SCEPD_BIN:-/usr/sbin/scepd}' "SCEPD_BIN:-$app/bin/scepd}"
set_default "$root$app/etc/init" 'SCEPD_CONF:-/etc/scepd.conf}' "SCEPD_CONF:-$app/etc/scepd.conf}"
set_default "$root$app/bin/check-cert.sh" 'SCEPD_CONF:-/etc/scepd.conf}' \
  "SCEPD_CONF:-$app/etc/scepd.conf}"
set_default "$root$app/bin/scep_replace_pem" 'SCEPD_CONF:-/etc/scepd.conf}' \
  "SCEPD_CONF:-$app/etc/scepd.conf}"
for web_conf in httpd.conf lighttpd.conf; do
  set_default "$root$app/www/$web_conf" /usr/lib/scepd "$app/www"
  set_default "$root$app/www/$web_conf" /usr/share/scepd/www "$app/www"
done
set_default "$root$app/www/httpd.conf" 'SCEPD_CONFIG=/etc/scepd.conf' "SCEPD_CONFIG=$app/etc/scepd.conf"
set_default "$root$app/www/lighttpd.conf" '"SCEPD_CONFIG" => "/etc/scepd.conf"' \
  "\"SCEPD_CONFIG\" => \"$app/etc/scepd.conf\""

install -m 0644 "$(dirname "$0")/../LICENSE" "$root$app/LICENSE"
for pkg in inih:libinih-dev spdlog:libspdlog-dev fmt:libfmt-dev; do
  copyright=/usr/share/doc/${pkg#*:}/copyright
  if [[ -r $copyright ]]; then
    install -d -m 0755 "$root$app/licenses"
    install -m 0644 "$copyright" "$root$app/licenses/${pkg%%:*}"
  fi
done

# The shared libraries every packed binary needs (ELF NEEDED entries).
firmware='^(libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|ld-linux[^/]*\.so|ld\.so|ld-musl[^/]*\.so|libcrypto\.so|libcurl\.so)'
needed=()
while IFS= read -r -d '' file; do
  [[ $(head -c 4 "$file" | od -An -c | tr -d ' ') == 177ELF ]] || continue
  while read -r lib; do
    needed+=("$lib")
    if [[ ! $lib =~ $firmware && -z $any_libraries ]]; then
      echo "router-app: ${file#"$root"/} needs $lib, which a router's firmware lacks" \
        "(build with -DSCEPD_SIZE_OPT=ON -DSCEPD_STATIC_LIBSTDCXX=ON, or pass --any-libraries)" >&2
      exit 1
    fi
  done < <(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
done < <(find "$root" -type f -print0)
echo "router-app: the binaries need $(printf '%s\n' "${needed[@]}" | sort -u | tr '\n' ' ')"

mkdir -p "$(dirname "$out")"
tar -C "$root" --owner=0 --group=0 --numeric-owner --sort=name \
  -czf "$out" "${app#/}"
echo "router-app: wrote $out"
