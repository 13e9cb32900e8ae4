#!/usr/bin/env bash
# Builds the lab stand-in for hashicorp/vault:1.21.4 from lab/vault (a real
# Vault server from Vault's own Go packages) and loads it with `docker import`.
#
#   lab/images/vault.sh            build if needed, print one line
#
# Cached by content: the image carries the label
# org.fineract-installer.lab.hash (sha256 of the lab/vault sources, go.mod,
# go.sum, this script and the Go version); if the tagged image already has
# that hash nothing is done. The compiled binary is cached under
# ${XDG_CACHE_HOME:-$HOME/.cache}/fineract-installer-lab/ by the same hash.
#
# The image follows upstream's layout: /bin/vault, entrypoint
# docker-entrypoint.sh (a link to the binary, which implements upstream's
# entrypoint script), /vault/{config,logs,file} owned by vault (100:1000),
# VOLUME /vault/logs and /vault/file, EXPOSE 8200, CMD ["server","-dev"].
# Like upstream there is no USER: the entrypoint starts as root, chowns the
# vault directories and runs Vault as uid 100 (see lab/vault/entrypoint.go).
set -euo pipefail

TAG="hashicorp/vault:1.21.4"
LABEL_KEY="org.fineract-installer.lab.hash"
SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
SRC="$(cd "$(dirname "$SCRIPT")/../vault" && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/fineract-installer-lab"

command -v docker >/dev/null || { echo "vault.sh: docker CLI not found" >&2; exit 1; }
command -v go >/dev/null || { echo "vault.sh: go not found (need Go to build lab/vault)" >&2; exit 1; }

# Content hash: every non-test source file, the module files, this script
# and the toolchain version (a new Go compiles a different binary).
hash="$(
  cd "$SRC"
  {
    find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum "$SCRIPT" | cut -d' ' -f1
    go version
  } | sha256sum | cut -d' ' -f1
)"

current="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$TAG" 2>/dev/null || true)"
if [[ "$current" == "$hash" ]]; then
  echo "vault.sh: $TAG is up to date (lab hash ${hash:0:12}), nothing to do"
  exit 0
fi
old_id="$(docker image inspect --format '{{ .Id }}' "$TAG" 2>/dev/null || true)"

bin="$CACHE/vault-$hash/vault"
if [[ ! -x "$bin" ]]; then
  mkdir -p "$CACHE"
  tmpbin="$(mktemp "$CACHE/vault.XXXXXX")"
  start=$SECONDS
  (cd "$SRC" && CGO_ENABLED=0 go build -trimpath -mod=readonly \
    -ldflags "-s -w -X github.com/hashicorp/vault/version.BuildDate=2026-01-01T00:00:00Z" \
    -o "$tmpbin" .)
  mkdir -p "$(dirname "$bin")"
  mv "$tmpbin" "$bin"
  echo "vault.sh: compiled lab/vault in $((SECONDS - start))s -> $bin"
  # Keep only this hash's binary: old ones are ~100 MB each.
  find "$CACHE" -maxdepth 1 -type d -name 'vault-*' ! -name "vault-$hash" -exec rm -rf {} +
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/rootfs"
mkdir -p "$root"/{bin,etc,tmp,usr/local/bin,home/vault,vault/config,vault/logs,vault/file}
install -m 0755 "$bin" "$root/bin/vault"
ln -s /bin/vault "$root/usr/local/bin/docker-entrypoint.sh"
chmod 1777 "$root/tmp"
chmod 0755 "$root"/vault/{config,logs,file} "$root/home/vault"
printf 'root:x:0:0:root:/root:/sbin/nologin\nvault:x:100:1000:vault:/home/vault:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nvault:x:1000:vault\nnogroup:x:65534:\n' >"$root/etc/group"

# Two passes so ownership does not depend on who runs the script: system
# files as root, the vault user's directories as 100:1000.
tarball="$stage/rootfs.tar"
tar_opts=(--numeric-owner --sort=name --mtime=@0 -C "$root")
tar "${tar_opts[@]}" --owner=0 --group=0 -cf "$tarball" bin etc tmp usr
tar "${tar_opts[@]}" --owner=100 --group=1000 -rf "$tarball" home vault

docker import \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["server", "-dev"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NAME=vault VERSION=1.21.4' \
  --change 'EXPOSE 8200' \
  --change 'VOLUME /vault/logs' \
  --change 'VOLUME /vault/file' \
  --change "LABEL $LABEL_KEY=$hash" \
  "$tarball" "$TAG" >/dev/null

# The previous lab build is now untagged; remove it unless a container uses it.
if [[ -n "$old_id" && "$old_id" != "$(docker image inspect --format '{{ .Id }}' "$TAG")" ]]; then
  docker image rm "$old_id" >/dev/null 2>&1 || true
fi
echo "vault.sh: built $TAG (lab hash ${hash:0:12})"
