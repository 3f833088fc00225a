#!/usr/bin/env bash
# Make a development CA and a server certificate for opencx (SIP over TLS, WSS, HTTPS).
#
#   certs/make-dev-certs.sh [-o OUTDIR] [-d DAYS] [-n CN] [NAME_OR_IP ...]
#
# The server certificate's subjectAltName always holds localhost, 127.0.0.1 and ::1; every extra
# argument is added as an IP SAN when it parses as an IPv4/IPv6 address, otherwise as a DNS SAN.
# Output (default certs/out, created mode 700):
#   ca.key ca.crt            development CA (keep ca.key private; trust ca.crt in test clients)
#   server.key server.crt    server key and certificate signed by the CA
#   server-chain.crt         server.crt followed by ca.crt
# An existing CA in OUTDIR is reused so clients that trust it keep working; delete it to rotate.
# These are development keys only: never commit them (certs/out, *.key, *.pem are git-ignored).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/out"
days=825
cn="opencx dev server"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while getopts ":o:d:n:h" opt; do
  case "$opt" in
    o) out="$OPTARG" ;;
    d) days="$OPTARG" ;;
    n) cn="$OPTARG" ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }
[[ "$days" =~ ^[0-9]+$ ]] || { echo "days must be a number" >&2; exit 2; }

is_ip() {
  local a="$1"
  [[ "$a" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] && return 0
  [[ "$a" == *:* && "$a" =~ ^[0-9A-Fa-f:.]+$ ]] && return 0
  return 1
}

dns=(localhost)
ips=(127.0.0.1 ::1)
for name in "$@"; do
  if is_ip "$name"; then ips+=("$name")
  elif [[ "$name" =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then dns+=("$name")
  else echo "not a DNS name or IP address: $name" >&2; exit 2
  fi
done

san=""
for d in "${dns[@]}"; do san+="${san:+,}DNS:$d"; done
for a in "${ips[@]}"; do san+=",IP:$a"; done

mkdir -p "$out"
chmod 700 "$out"
umask 077
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ ! -s "$out/ca.key" || ! -s "$out/ca.crt" ]]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" \
    -subj "/O=opencx development/CN=opencx dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$out/ca.crt"
  echo "created CA $out/ca.crt"
else
  echo "reusing CA $out/ca.crt"
fi

cat > "$tmp/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EXT

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/server.key" 2>/dev/null
openssl req -new -key "$out/server.key" -subj "/O=opencx development/CN=$cn" -out "$tmp/server.csr"
openssl x509 -req -in "$tmp/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/server.ext" -out "$out/server.crt" 2>/dev/null
cat "$out/server.crt" "$out/ca.crt" > "$out/server-chain.crt"
chmod 600 "$out/ca.key" "$out/server.key"
chmod 644 "$out/ca.crt" "$out/server.crt" "$out/server-chain.crt"

openssl verify -CAfile "$out/ca.crt" "$out/server.crt"
echo "server certificate SAN: $san"
echo "files in $out: ca.crt ca.key server.crt server.key server-chain.crt"
