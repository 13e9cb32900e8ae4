# shellcheck shell=bash
# Library of the lab image scripts: sourced by lab/images/*.sh, never run on
# its own (lab/test.sh runs only lab/images/*.sh, not this directory).
#
# Every Debian-based lab image is made the same way:
#   1. a Debian root filesystem from `debootstrap --variant=minbase`, cached
#      as a tarball keyed by the suite and this file's hash;
#   2. the image's packages installed into a copy of it with apt-get in a
#      chroot (the .deb files and package lists are cached and shared);
#   3. the image's own files (entrypoints, configuration) copied in;
#   4. the tree imported with `docker import`, with the image configuration
#      (ENTRYPOINT, CMD, USER, ...) of the upstream image it stands in for.
#
# Images carry the label org.fineract-installer.lab.hash: a sha256 over
# every input (this library, the image's script and files, the suite, the
# base rootfs key and, for the Fineract stand-in, its Go sources). An image
# whose tag already carries that hash is not rebuilt. LAB_REBUILD=1 forces a
# rebuild (for instance to pick up a Debian point release).
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/fineract-installer-lab/
#   rootfs/debian-<suite>-minbase-<key>.tar   the debootstrap result
#   apt/archives/, apt/lists/                 shared apt cache
#   work/                                     scratch trees (removed after use)
#   debian.lock                               serialises the Debian image builds
#
# Environment:
#   LAB_DEBIAN_MIRROR  Debian archive URL (default: the first Debian archive
#                      in this machine's apt sources, else deb.debian.org)
#   LAB_REBUILD=1      rebuild even when the image is up to date
#
# Why trixie: the gateway configuration uses `http2 on;`, which needs nginx
# 1.25.1 or newer (bookworm has 1.22.1, trixie 1.26.3), and the pinned
# postgres and nginx references are the trixie variants of their images.

LAB_SUITE=trixie
LAB_LABEL=org.fineract-installer.lab.hash
LAB_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_IMAGES_DIR="$(cd "$LAB_LIB_DIR/.." && pwd)"
LAB_REPO="$(cd "$LAB_IMAGES_DIR/../.." && pwd)"
LAB_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/fineract-installer-lab"
LAB_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LAB_NAME="${LAB_NAME:-$(basename "$0")}"
LAB_STAGE=""
LAB_ROOT=""
LAB_START=$SECONDS

lab_log() { printf '%s: %s\n' "$LAB_NAME" "$*"; }
lab_die() {
  printf '%s: %s\n' "$LAB_NAME" "$*" >&2
  exit 1
}

# lab_require: the tools the build needs; installs debootstrap if missing.
lab_require() {
  [[ "$(id -u)" -eq 0 ]] || lab_die "run as root (debootstrap, chroot and mount need it)"
  command -v docker >/dev/null || lab_die "docker CLI not found"
  docker info >/dev/null 2>&1 || lab_die "no Docker engine answers (lab/test.sh starts one)"
  local tool
  for tool in tar sha256sum flock chroot mount umount mountpoint; do
    command -v "$tool" >/dev/null || lab_die "$tool not found"
  done
  if ! command -v debootstrap >/dev/null; then
    lab_log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] ||
    lab_die "Debian's archive keyring is missing: apt-get install debian-archive-keyring"
}

# lab_mirror prints the Debian archive URL: LAB_DEBIAN_MIRROR, else the first
# Debian archive (not the security archive) in this machine's apt sources.
lab_mirror() {
  if [[ -n "${LAB_DEBIAN_MIRROR:-}" ]]; then
    printf '%s\n' "${LAB_DEBIAN_MIRROR%/}"
    return
  fi
  local uri
  uri="$(
    {
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }'
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
    } | grep -E '^https?://[^ ]*/debian/?$' | head -n1 || true
  )"
  printf '%s\n' "${uri:-http://deb.debian.org/debian}" | sed 's:/*$::'
}

# lab_ref SERVICE prints the image reference the assets pin for a service
# (assets/images.go), so the lab always builds what the installer deploys.
lab_ref() {
  local ref
  ref="$(sed -n "s/^[[:space:]]*{\"$1\", \"\([^\"]*\)\".*/\1/p" "$LAB_REPO/assets/images.go" | head -n1)"
  [[ -n "$ref" ]] || lab_die "no image pinned for service $1 in assets/images.go"
  printf '%s\n' "$ref"
}

# lab_hash ARG... prints a sha256 over its arguments: an existing file or
# directory contributes its path (relative to the repository) and content,
# anything else is hashed as text.
lab_hash() {
  local a
  for a in "$@"; do
    if [[ -d "$a" ]]; then
      (cd "$a" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) |
        sed "s|  \./|  ${a#"$LAB_REPO"/}/|"
      # Modes matter for files copied into images.
      (cd "$a" && find . -print0 | LC_ALL=C sort -z | xargs -0 -r stat -c '%a %n')
    elif [[ -f "$a" ]]; then
      printf '%s  %s\n' "$(sha256sum <"$a" | cut -d' ' -f1)" "${a#"$LAB_REPO"/}"
    else
      printf 'text %s\n' "$a"
    fi
  done | sha256sum | cut -d' ' -f1
}

# lab_image_hash REF ARG...: the hash of an image built by the calling
# script: this library, the script, the suite, the base rootfs key, the ref
# and the extra inputs given.
lab_image_hash() {
  local ref="$1"
  shift
  lab_hash "$LAB_LIB_DIR/debian.sh" "$LAB_IMAGES_DIR/$LAB_NAME" "suite=$LAB_SUITE" "base=$(lab_base_key)" "ref=$ref" "$@"
}

# lab_up_to_date REF HASH succeeds (and says so) when the tagged image
# already carries HASH.
lab_up_to_date() {
  local current
  [[ "${LAB_REBUILD:-}" == 1 ]] && return 1
  current="$(docker image inspect --format "{{ index .Config.Labels \"$LAB_LABEL\" }}" "$1" 2>/dev/null || true)"
  if [[ "$current" == "$2" ]]; then
    lab_log "$1 is up to date (lab hash ${2:0:12}), nothing to do"
    return 0
  fi
  return 1
}

# lab_lock serialises the Debian image builds (they share the apt cache and
# the work directory). The lock is held until the script exits.
lab_lock() {
  mkdir -p "$LAB_CACHE"
  exec {LAB_LOCK_FD}>"$LAB_CACHE/debian.lock"
  if ! flock -n "$LAB_LOCK_FD"; then
    lab_log "waiting for another lab image build to finish"
    flock "$LAB_LOCK_FD"
  fi
  # Scratch trees of a build that died: unmount, then remove.
  if [[ -d "$LAB_CACHE/work" ]]; then
    local d
    for d in "$LAB_CACHE"/work/*; do
      [[ -d "$d" ]] && lab_remove_tree "$d"
    done
  fi
  mkdir -p "$LAB_CACHE/work" "$LAB_CACHE/apt/archives/partial" "$LAB_CACHE/apt/lists/partial" "$LAB_CACHE/rootfs"
}

# lab_unmount_under DIR unmounts every mount at or below DIR, deepest first.
lab_unmount_under() {
  local dir m
  dir="$(realpath -m "$1")"
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# lab_remove_tree DIR removes a scratch tree, after making sure nothing is
# mounted below it (so host directories bind-mounted into a chroot are never
# touched).
lab_remove_tree() {
  local dir
  dir="$(realpath -m "$1")"
  lab_unmount_under "$dir"
  if awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
    lab_die "$dir still has mounts below it; not removing it"
  fi
  rm -rf --one-file-system "$dir"
}

lab_cleanup() {
  local rc=$?
  if [[ -n "$LAB_STAGE" && -d "$LAB_STAGE" ]]; then
    lab_remove_tree "$LAB_STAGE"
  fi
  return $rc
}

# lab_base_key: the cache key of the debootstrap tarball.
lab_base_key() {
  lab_hash "$LAB_LIB_DIR/debian.sh" "suite=$LAB_SUITE" "variant=minbase" | cut -c1-16
}

# lab_base_tar prints the path of the cached minbase rootfs tarball, making
# it first if needed.
lab_base_tar() {
  local key tarball tree mirror start
  key="$(lab_base_key)"
  tarball="$LAB_CACHE/rootfs/debian-$LAB_SUITE-minbase-$key.tar"
  if [[ -s "$tarball" ]]; then
    printf '%s\n' "$tarball"
    return
  fi
  mirror="$(lab_mirror)"
  start=$SECONDS
  lab_log "debootstrap --variant=minbase $LAB_SUITE from $mirror" >&2
  tree="$(mktemp -d "$LAB_CACHE/work/base.XXXXXX")"
  if ! debootstrap --variant=minbase --components=main --cache-dir="$LAB_CACHE/apt/archives" \
    "$LAB_SUITE" "$tree" "$mirror" >"$tree.log" 2>&1; then
    tail -n 30 "$tree.log" >&2
    lab_remove_tree "$tree"
    rm -f "$tree.log"
    lab_die "debootstrap failed (log above)"
  fi
  rm -f "$tree.log"
  lab_unmount_under "$tree"
  # Like Debian's slim images: no documentation, manual pages or message
  # catalogues, now or from packages installed later.
  cat >"$tree/etc/dpkg/dpkg.cfg.d/lab-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$tree/etc/apt/apt.conf.d/lab" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  find "$tree/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$tree/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$tree"/usr/share/{man,info,groff,lintian,linda}/*
  find "$tree/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/archives/*.deb "$tree"/var/cache/apt/*.bin
  find "$tree/var/log" -type f -delete
  tar --numeric-owner --sort=name -C "$tree" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  lab_remove_tree "$tree"
  # Older base tarballs are useless now.
  find "$LAB_CACHE/rootfs" -maxdepth 1 -name "debian-*-minbase-*.tar" ! -name "$(basename "$tarball")" -delete
  lab_log "base rootfs ready in $((SECONDS - start))s: $tarball" >&2
  printf '%s\n' "$tarball"
}

# lab_chroot ROOT CMD... runs a command inside the tree with a clean
# environment.
lab_chroot() {
  local root="$1"
  shift
  chroot "$root" /usr/bin/env -i PATH="$LAB_PATH" HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# lab_rootfs_begin NAME sets LAB_ROOT to a fresh copy of the base rootfs,
# ready for apt-get: package lists fetched, archives shared with the cache,
# services kept from starting. lab_rootfs_finish undoes all of that. (Not
# for $(...): the cleanup trap must belong to the calling shell.)
lab_rootfs_begin() {
  local base root mirror
  base="$(lab_base_tar)"
  LAB_STAGE="$(mktemp -d "$LAB_CACHE/work/$1.XXXXXX")"
  trap lab_cleanup EXIT
  root="$LAB_STAGE/rootfs"
  # shellcheck disable=SC2034 # for the calling script
  LAB_ROOT="$root"
  mkdir "$root"
  tar --numeric-owner -xpf "$base" -C "$root"
  mirror="$(lab_mirror)"
  printf 'deb %s %s main\n' "$mirror" "$LAB_SUITE" >"$root/etc/apt/sources.list"
  rm -f "$root"/etc/apt/sources.list.d/*
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\n# lab build: no service starts in the chroot\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  mount --bind "$LAB_CACHE/apt/archives" "$root/var/cache/apt/archives"
  mount --bind "$LAB_CACHE/apt/lists" "$root/var/lib/apt/lists"
  lab_chroot "$root" apt-get -q -o APT::Sandbox::User=root update >"$LAB_STAGE/apt.log" 2>&1 ||
    { tail -n 20 "$LAB_STAGE/apt.log" >&2; lab_die "apt-get update failed"; }
}

# lab_apt_install ROOT PACKAGE... installs packages (no recommends).
lab_apt_install() {
  local root="$1"
  shift
  lab_log "apt-get install $*"
  lab_chroot "$root" apt-get install -y -q --no-install-recommends \
    -o APT::Sandbox::User=root -o Dpkg::Options::=--force-confold "$@" >>"$LAB_STAGE/apt.log" 2>&1 ||
    { tail -n 30 "$LAB_STAGE/apt.log" >&2; lab_die "apt-get install $* failed"; }
}

# lab_pkg_version ROOT PACKAGE prints an installed package's version.
lab_pkg_version() {
  # shellcheck disable=SC2016 # dpkg-query's own format syntax
  lab_chroot "$1" dpkg-query -W -f '${Version}' "$2"
}

# lab_rootfs_finish ROOT: unmount, drop build-time files.
lab_rootfs_finish() {
  local root="$1"
  lab_unmount_under "$root"
  rm -f "$root/usr/sbin/policy-rc.d"
  : >"$root/etc/resolv.conf"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/tmp/* "$root"/var/tmp/*
  find "$root/var/log" -type f -delete
  find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info}/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
}

# lab_import ROOT REF HASH INSTRUCTION... imports the tree with `docker
# import`, then applies the image configuration (Dockerfile instructions:
# ENTRYPOINT, CMD, USER, STOPSIGNAL, ...) and the hash label in a build step
# without context (the engine's import cannot set STOPSIGNAL). The image the
# tag pointed at before is removed unless a container still uses it.
lab_import() {
  local root="$1" ref="$2" hash="$3"
  shift 3
  local old_id tmp
  old_id="$(docker image inspect --format '{{ .Id }}' "$ref" 2>/dev/null || true)"
  tmp="fineract-lab/rootfs:${hash:0:16}"
  tar --numeric-owner --sort=name -C "$root" \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
    docker import - "$tmp" >/dev/null
  {
    printf 'FROM %s\n' "$tmp"
    printf '%s\n' "$@"
    printf 'LABEL %s=%s\n' "$LAB_LABEL" "$hash"
  } | DOCKER_BUILDKIT=0 docker build -q -t "$ref" - >/dev/null 2>"$LAB_STAGE/build.log" ||
    { cat "$LAB_STAGE/build.log" >&2; lab_die "docker build of $ref failed"; }
  docker image rm "$tmp" >/dev/null
  if [[ -n "$old_id" && "$old_id" != "$(docker image inspect --format '{{ .Id }}' "$ref")" ]]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  lab_log "built $ref (lab hash ${hash:0:12}, $(docker image inspect --format '{{ .Size }}' "$ref" | awk '{ printf "%d MB", $1 / 1e6 }')) in $((SECONDS - LAB_START))s"
}
