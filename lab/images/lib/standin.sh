# shellcheck shell=bash
# Library of the stand-in image scripts (fineract.sh, keycloak.sh, kafka.sh,
# grafana.sh and the Elastic ones), sourced after lib/debian.sh. These
# images cannot be fetched where the lab runs; each runs a STAND-IN, a small
# Go program in lab/standin/<name> (see its package documentation for the
# contract it honours and what it cannot prove).

# lab_standin_hash REF NAME prints the image hash over this library, the
# stand-in's sources, the shared stand-in packages, go.mod, go.sum, the Go
# version and the image's own files.
lab_standin_hash() {
  local ref="$1" name="$2" f
  local srcs=()
  while IFS= read -r -d '' f; do srcs+=("$f"); done < <(
    find "$LAB_REPO/lab/standin/$name" "$LAB_REPO/lab/standin/internal" -type f -name '*.go' ! -name '*_test.go' -print0 | LC_ALL=C sort -z
  )
  local files=()
  [[ -d "$LAB_IMAGES_DIR/files/$name" ]] && files+=("$LAB_IMAGES_DIR/files/$name")
  lab_image_hash "$ref" "$LAB_LIB_DIR/standin.sh" "${srcs[@]}" "${files[@]}" "$LAB_REPO/go.mod" "$LAB_REPO/go.sum" "$(go version)"
}

# lab_standin_binary NAME HASH prints the path of the stand-in's static
# binary in the lab cache, compiling it first if needed.
lab_standin_binary() {
  local name="$1" hash="$2" bin start
  bin="$LAB_CACHE/$name-standin-${hash:0:16}"
  if [[ ! -x "$bin" ]]; then
    start=$SECONDS
    (cd "$LAB_REPO" && CGO_ENABLED=0 go build -trimpath -mod=readonly -ldflags "-s -w" -o "$bin.tmp" "./lab/standin/$name") >&2
    mv "$bin.tmp" "$bin"
    find "$LAB_CACHE" -maxdepth 1 -name "$name-standin-*" ! -name "$(basename "$bin")" -delete
    lab_log "compiled lab/standin/$name in $((SECONDS - start))s" >&2
  fi
  printf '%s\n' "$bin"
}

# lab_elastic_user ROOT NAME adds the image's user NAME, uid 1000, group
# NAME gid 1000 and member of root's group 0 (Elastic's images let
# arbitrary uids in group 0 write their directories).
lab_elastic_user() {
  lab_chroot "$1" groupadd -g 1000 "$2"
  lab_chroot "$1" useradd --uid 1000 --gid 1000 -G 0 --home-dir "/usr/share/$2" --no-create-home --shell /sbin/nologin "$2"
}
