#!/bin/sh
# Throwaway test PKI for the alerting integration tests (never for production).
#
#   pki.sh DIR [CLIENT_NAME...]
#
# Writes into DIR:
#   ca.pem / ca.key                 a self-signed CA (EC P-256, valid 2 days)
#   server.pem / server.key         server cert signed by the CA,
#                                   SAN IP:127.0.0.1, DNS:localhost
#   <name>.pem / <name>.key         one client cert per CLIENT_NAME (CN=<name>,
#                                   extendedKeyUsage clientAuth); default: client
#   other-ca.pem / intruder.pem/.key  a client cert from an unrelated CA, for
#                                   "a certificate the server must reject" tests
# Exits non-zero with the failing openssl command's message on any error.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: pki.sh DIR [CLIENT_NAME...]" >&2
  exit 2
fi
dir=$1
shift
[ $# -eq 0 ] && set -- client
command -v openssl >/dev/null 2>&1 || {
  echo "pki.sh: openssl not found (scripts/setup installs it)" >&2
  exit 3
}
mkdir -p "$dir"
cd "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() {  # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

sign() {  # name subject ca extfile-content
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
    -sha256 -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

make_ca ca "/O=floodwarn test/CN=floodwarn test CA"
sign server "/O=floodwarn test/CN=localhost" ca \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"
for name in "$@"; do
  sign "$name" "/O=floodwarn test/CN=$name" ca \
    "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
done
make_ca other-ca "/O=somebody else/CN=unrelated CA"
sign intruder "/O=somebody else/CN=intruder" other-ca \
  "basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth"
rm -f ./*.srl
# Files readable by the tests only; the server refuses nothing on modes.
chmod 600 ./*.key
chmod 644 ./*.pem
