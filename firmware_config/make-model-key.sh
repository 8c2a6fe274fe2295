#!/bin/sh
# shelfsense model signing key: the Ed25519 key pair the gateway signs uploaded models
# with (signed model roll-outs, README "Model roll-outs"). A sibling of make-certs.sh.
#
#   make-model-key.sh DIR        make DIR/private/model-signing.key and DIR/model-signing.pub
#   make-model-key.sh DIR show   print the public key's id (as the gateway's /rollouts shows it)
#
# DIR/private/model-signing.key goes onto the gateway only (rollouts.signing_key in
# gateway.yaml, readable by the gateway's user alone); DIR/model-signing.pub goes onto
# every camera node (model_updates.public_key in node.yaml). A node runs no model that
# this key did not sign. A lost or leaked key: make a new one, give every node the new
# public key, upload the models again.
set -eu

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
DIR=$(mkdir -p "$1" && cd "$1" && pwd)
COMMAND=${2:-make}
OPENSSL=${OPENSSL:-openssl}
KEY="$DIR/private/model-signing.key"
PUB="$DIR/model-signing.pub"

die() {
    echo "make-model-key.sh: $*" >&2
    exit 1
}

case $COMMAND in
make)
    [ ! -e "$KEY" ] || die "$KEY exists already; move it away first to make a new key"
    mkdir -p "$DIR/private"
    chmod 700 "$DIR/private"
    (umask 077 && "$OPENSSL" genpkey -algorithm ed25519 -out "$KEY") ||
        die "$OPENSSL cannot make an Ed25519 key (OpenSSL 1.1.1 or newer is needed)"
    "$OPENSSL" pkey -in "$KEY" -pubout -out "$PUB"
    echo "signing key (gateway only): $KEY"
    echo "public key (every node):    $PUB"
    ;;
show)
    [ -f "$PUB" ] || die "$PUB: no public key here; run: make-model-key.sh $DIR"
    # The raw 32-byte key is the last 32 bytes of the DER form; its sha256, 16 hex digits.
    "$OPENSSL" pkey -pubin -in "$PUB" -outform DER | tail -c 32 | "$OPENSSL" dgst -sha256 -r |
        cut -c1-16
    ;;
*)
    usage
    ;;
esac
