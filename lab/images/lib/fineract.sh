# shellcheck shell=bash
# Library of the Fineract STAND-IN image scripts (fineract.sh,
# fineract-v2.sh, fineract-v2-broken.sh), sourced after lib/debian.sh and
# lib/standin.sh. All three images run lab/standin/fineract, a small Go
# program that is not Fineract (see its package documentation for the
# contract it honours). They differ only in the release the program is
# built as (go build -ldflags "-X main.release=..."), never in
# configuration: a real Fineract image is one release, and nothing the
# installer renders could choose another.
#
# As in the real image (Jib on an Alpine JDK image): runs as nobody:nogroup
# (65534:65534), EXPOSE 8080 8443, /tmp world-writable (user.home), and the
# tools the assets' healthcheck uses: /bin/sh, grep and a wget that speaks
# HTTPS with TLS 1.3 (GNU wget here, busybox wget + ssl_client upstream).
# The program is /app/fineract-standin, built static (CGO_ENABLED=0) and
# cached with the image by content hash (its Go sources, go.mod, go.sum,
# the Go version, this library, the calling script and the release).

# lab_labimages_ref NAME prints the image reference the Go constant NAME
# declares in lab/labimages/upgrade.go, so the tests that import the
# constant and the script that builds the image cannot disagree.
lab_labimages_ref() {
  local ref
  ref="$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$LAB_REPO/lab/labimages/upgrade.go" | head -n1)"
  [[ -n "$ref" ]] || lab_die "no constant $1 in lab/labimages/upgrade.go"
  printf '%s\n' "$ref"
}

# lab_fineract_binary RELEASE HASH prints the path of the stand-in built
# as RELEASE in the lab cache, compiling it first if needed.
lab_fineract_binary() {
  local release="$1" hash="$2" bin start
  bin="$LAB_CACHE/fineract-$release-standin-${hash:0:16}"
  if [[ ! -x "$bin" ]]; then
    start=$SECONDS
    (cd "$LAB_REPO" && CGO_ENABLED=0 go build -trimpath -mod=readonly -ldflags "-s -w -X main.release=$release" -o "$bin.tmp" ./lab/standin/fineract) >&2
    mv "$bin.tmp" "$bin"
    find "$LAB_CACHE" -maxdepth 1 -name "fineract-$release-standin-*" ! -name "$(basename "$bin")" -delete
    lab_log "compiled lab/standin/fineract as release $release in $((SECONDS - start))s" >&2
  fi
  printf '%s\n' "$bin"
}

# lab_fineract_image REF RELEASE builds the stand-in image REF running the
# stand-in built as RELEASE (v1, v2 or v2-broken), unless REF is up to date.
lab_fineract_image() {
  local ref="$1" release="$2" hash bin root
  command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/fineract)"
  case "$release" in
  v1 | v2 | v2-broken) ;;
  *) lab_die "unknown stand-in release $release (v1, v2 or v2-broken)" ;;
  esac
  hash="$(lab_hash "$(lab_standin_hash "$ref" fineract)" "$LAB_LIB_DIR/fineract.sh" "release=$release")"
  lab_up_to_date "$ref" "$hash" && return 0

  lab_require
  lab_lock
  lab_up_to_date "$ref" "$hash" && return 0 # built while we waited

  bin="$(lab_fineract_binary "$release" "$hash")"
  lab_rootfs_begin "fineract-$release"
  root="$LAB_ROOT"
  lab_apt_install "$root" wget ca-certificates
  install -d -m 0755 "$root/app"
  install -m 0755 "$bin" "$root/app/fineract-standin"
  chmod 1777 "$root/tmp"
  lab_rootfs_finish "$root"

  lab_import "$root" "$ref" "$hash" \
    "USER nobody:nogroup" \
    "WORKDIR /" \
    "EXPOSE 8080 8443" \
    "LABEL org.fineract-installer.lab.standin-release=$release" \
    'ENTRYPOINT ["/app/fineract-standin"]'
}
