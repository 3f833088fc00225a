#!/usr/bin/env bash
# Installs the Debian packages the test tiers and benchmarks drive, when they are missing.
# As root it runs apt-get; otherwise it says what to install and fails, so no test is skipped silently.
set -u
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have sipp || need+=(sip-tester)
have redis-server || need+=(redis-server)
have openssl || need+=(openssl)
have kamailio || need+=(kamailio)
have socat || need+=(socat)
have baresip || need+=(baresip-core)
have linphonec || need+=(linphone-cli)
# the MCP's local speech recognition (PocketSphinx with its US English model) and the espeak-ng voice the tests speak with
have pocketsphinx_batch || need+=(pocketsphinx)
[ -d /usr/share/pocketsphinx/model/en-us ] || need+=(pocketsphinx-en-us)
have espeak-ng || need+=(espeak-ng)
have mkfifo || need+=(coreutils)
# the native UDP addon (native/udp) is compiled by node-gyp at install time
have g++ || need+=(g++)
have make || need+=(make)
have python3 || need+=(python3)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  echo "test tools present: sipp redis-server openssl kamailio socat baresip linphonec pocketsphinx espeak-ng g++ make python3"
  exit 0
fi
echo "missing Debian packages: ${need[*]}"
as_root=()
if [ "$(id -u)" != 0 ]; then
  if have sudo; then
    as_root=(sudo)
  else
    echo "not root and no sudo: install them with  apt-get install -y ${need[*]}  as root, then try again" >&2
    exit 1
  fi
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || { echo "apt-get update failed" >&2; exit 1; }
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null || { echo "apt-get install ${need[*]} failed" >&2; exit 1; }
# kamailio's package starts a system service; the tests start their own instances
if have systemctl; then "${as_root[@]}" systemctl stop kamailio >/dev/null 2>&1 || true; fi
echo "installed: ${need[*]}"
