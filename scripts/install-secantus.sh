#!/usr/bin/env bash
# Builds SecantusDB (the embedded MongoDB-compatible engine used when MONGODB_URI is unset and
# no mongod is on PATH) into a user cache folder, once, from crates.io. Needs Rust's cargo.
# SecantusDB is GPL-2.0: it runs as a separate process and is never linked into the server.
# Prints the path of the binary on its last line.
set -euo pipefail
version="0.5.3-beta.196"
cache="${FHIR_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fhir-records-server}"
root="$cache/secantus-$version"
bin="$root/bin/secantusd-rs"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v cargo >/dev/null || {
  echo "Rust's cargo is needed to build SecantusDB once (https://rustup.rs), or set MONGODB_URI to a MongoDB server" >&2
  exit 1
}
echo "building SecantusDB $version once into $root (about 5 minutes on 2 cores)" >&2
# Build into a scratch root, then move it into place, so an interrupted build leaves nothing half-made.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/secantus-build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
cargo install secantus-mdb --version "$version" --locked --ignore-rust-version --root "$scratch/root" \
  --target-dir "$scratch/target" >&2
mkdir -p "$cache"
rm -rf "$root"
mv "$scratch/root" "$root"
echo "$bin"
