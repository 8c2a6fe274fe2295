#!/bin/sh
# shelfsense store certificates: one store CA, the broker's certificate, one client
# certificate per camera (and one for the gateway), and the revocation list.
#
# The broker (firmware_config/mosquitto/mosquitto.conf) requires a client certificate on
# its TLS listener and takes the certificate's common name as the user name, so the
# shipped ACL gives the camera "store-1/cam-1" its own topics and nothing else. A stolen
# camera is shut out with `revoke` (then restart Mosquitto).
#
#   make-certs.sh DIR init                       store CA (EC P-256, 10 years) and empty CRL
#   make-certs.sh DIR broker NAME [NAME|IP ...]  broker certificate for these host names/IPs
#   make-certs.sh DIR client STORE/CAMERA        a camera's certificate (3 years)
#   make-certs.sh DIR client gateway             the gateway's, for mqtts:// from another host
#   make-certs.sh DIR revoke STORE/CAMERA        revoke a certificate, rewrite DIR/crl.pem
#
# Files: DIR/store-ca.crt, DIR/broker.{crt,key}, DIR/crl.pem and DIR/clients/<name>.{crt,key}
# go onto the devices (see INSTALL.md). DIR/private/store-ca.key signs everything: keep
# it off the network (a USB stick in the office safe), not on the gateway.
set -eu

usage() {
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 2 ] || usage
DIR=$(mkdir -p "$1" && cd "$1" && pwd) # absolute: ca.cnf keeps it
COMMAND=$2
shift 2
OPENSSL=${OPENSSL:-openssl}
CA_DAYS=${CA_DAYS:-3650}
CERT_DAYS=${CERT_DAYS:-1095}
CONF="$DIR/private/ca.cnf"

die() {
    echo "make-certs.sh: $*" >&2
    exit 1
}

# Names as the node accepts them: <store>/<camera> (each a topic level) or "gateway".
check_name() {
    echo "$1" | grep -Eq '^(gateway|[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?)$' ||
        die "$1: a client is <store>/<camera>, <store> (its POS terminals) or 'gateway' (letters, digits, '.', '_', '-')"
}

need_ca() {
    [ -f "$CONF" ] || die "$DIR: no store CA here yet; run: make-certs.sh $DIR init"
}

new_key() {
    (umask 077 && "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1")
}

crl() {
    "$OPENSSL" ca -batch -config "$CONF" -gencrl -out "$DIR/crl.pem" 2>/dev/null ||
        die "cannot write $DIR/crl.pem"
}

case $COMMAND in
init)
    [ ! -e "$DIR/private/store-ca.key" ] || die "$DIR: a store CA exists already"
    mkdir -p "$DIR/private" "$DIR/clients" "$DIR/private/issued"
    chmod 700 "$DIR/private"
    : >"$DIR/private/index.txt"
    echo 1000 >"$DIR/private/crlnumber"
    cat >"$CONF" <<EOF
[ ca ]
default_ca = store_ca
[ store_ca ]
dir = $DIR/private
database = \$dir/index.txt
new_certs_dir = \$dir/issued
certificate = $DIR/store-ca.crt
private_key = \$dir/store-ca.key
serial = \$dir/serial
crlnumber = \$dir/crlnumber
rand_serial = yes
default_md = sha256
default_crl_days = $CA_DAYS
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF
    new_key "$DIR/private/store-ca.key"
    "$OPENSSL" req -x509 -new -key "$DIR/private/store-ca.key" -out "$DIR/store-ca.crt" \
        -days "$CA_DAYS" -subj "/CN=shelfsense store CA $(date +%Y%m%d%H%M%S)" \
        -addext "basicConstraints=critical,CA:true,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
    crl
    echo "store CA: $DIR/store-ca.crt (key: $DIR/private/store-ca.key, keep it offline)"
    ;;
broker)
    need_ca
    [ $# -ge 1 ] || die "broker needs the host name(s) or IP(s) the cameras connect to"
    san=""
    for name in "$@"; do
        if echo "$name" | grep -Eq '^[0-9.]+$|:'; then
            san="${san:+$san,}IP:$name"
        else
            san="${san:+$san,}DNS:$name"
        fi
    done
    new_key "$DIR/broker.key"
    "$OPENSSL" req -new -key "$DIR/broker.key" -out "$DIR/private/broker.csr" -subj "/CN=$1"
    printf '[ server_names ]\nbasicConstraints = critical, CA:false\n%s\n%s\nsubjectAltName = %s\n' \
        "keyUsage = critical, digitalSignature" "extendedKeyUsage = serverAuth" "$san" \
        >"$DIR/private/broker.ext"
    "$OPENSSL" ca -batch -config "$CONF" -extfile "$DIR/private/broker.ext" \
        -extensions server_names -days "$CERT_DAYS" -in "$DIR/private/broker.csr" \
        -out "$DIR/broker.crt" -notext 2>/dev/null || die "cannot sign the broker certificate"
    echo "broker: $DIR/broker.crt for $san"
    ;;
client)
    need_ca
    [ $# -eq 1 ] || die "client needs one name: <store>/<camera>, <store> (POS) or gateway"
    check_name "$1"
    mkdir -p "$DIR/clients/$(dirname "$1")"
    key="$DIR/clients/$1.key"
    new_key "$key"
    subject=$(echo "$1" | sed 's|/|\\/|g')
    "$OPENSSL" req -new -key "$key" -out "$DIR/private/client.csr" -subj "/CN=$subject"
    "$OPENSSL" ca -batch -config "$CONF" -extensions client -days "$CERT_DAYS" \
        -in "$DIR/private/client.csr" -out "$DIR/clients/$1.crt" -notext 2>/dev/null ||
        die "cannot sign the certificate of $1"
    echo "client $1: $DIR/clients/$1.crt and $key"
    ;;
revoke)
    need_ca
    [ $# -eq 1 ] || die "revoke needs one name: <store>/<camera> or gateway"
    check_name "$1"
    [ -f "$DIR/clients/$1.crt" ] || die "$DIR/clients/$1.crt: no such certificate"
    "$OPENSSL" ca -batch -config "$CONF" -revoke "$DIR/clients/$1.crt" 2>/dev/null ||
        die "cannot revoke $1 (revoked already?)"
    crl
    echo "revoked $1; copy $DIR/crl.pem to the broker and restart Mosquitto"
    ;;
*)
    usage
    ;;
esac
