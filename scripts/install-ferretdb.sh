#!/usr/bin/env bash
# Builds FerretDB (the embedded MongoDB-compatible database used when MONGODB_URI is unset)
# into a user cache folder, once. Needs Go and the Go module proxy.
# Prints the path of the binary on its last line.
set -euo pipefail
version="v1.24.2"
cache="${FHIR_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fhir-records-server}"
bin="$cache/ferretdb-$version/ferretdb"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "Go is needed to build FerretDB (or set MONGODB_URI to a MongoDB server)" >&2; exit 1; }

gopath="$(go env GOPATH)"
# Fetch the module into the module cache; the binary built by 'go install' panics without
# build/version/version.txt, so build from a copy of the module with that file written.
(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -x "github.com/FerretDB/FerretDB@$version" >/dev/null 2>&1) \
  || (cd "$(mktemp -d)" && go mod download "github.com/FerretDB/FerretDB@$version")
src="$gopath/pkg/mod/github.com/!ferret!d!b/!ferret!d!b@$version"
work="$(mktemp -d)"
cp -r "$src/." "$work/"
chmod -R u+w "$work"
echo "$version" > "$work/build/version/version.txt"
mkdir -p "$(dirname "$bin")"
(cd "$work" && go build -o "$bin.tmp" ./cmd/ferretdb)
mv "$bin.tmp" "$bin"
rm -rf "$work"
echo "$bin"
