#!/usr/bin/env bash
# `make image-test` (run by .ci/run after `make test` and `make e2e`): build the connector
# image and run it the way the Airbyte platform runs a custom connector image
# (tests/image/). Everything is set up here, every time, on a fresh machine:
#
#   1. a Docker engine: the one that answers, else Debian's docker.io, started with
#      `dockerd --storage-driver=vfs` (no overlay, bridge or iptables needed);
#   2. a stand-in for the pinned base image, which cannot be pulled here: Debian
#      bookworm from debootstrap, Python 3.11 with pip and venv, user `airbyte` uid 1000,
#      /airbyte owned by it (what airbyte/python-connector-base provides), with this
#      machine's package-index settings and CA bundle so that `pip install` in the build
#      reaches the same index;
#   3. the image, from the repository's Dockerfile with `--build-arg BASE_IMAGE=`;
#   4. tests/image (the platform's way of running it) and Airbyte's own image tests.
#
# Nothing is cached between runs. Skips (exit 0, with the reason) only where no Docker
# engine can be had; any other failure fails the target.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="airbyte/source-aircall-salescaling:dev"
BASE_TAG="source-aircall-salescaling-test-base:bookworm"
WORK="$(mktemp -d /tmp/image-test.XXXXXX)"
PY=".venv/bin/python"
started=$(date +%s)
export DOCKER_BUILDKIT=0  # the classic builder: BuildKit would pull its frontend image

say() { echo "image-test: $*"; }
skip() {
    say "SKIPPED: $*"
    exit 0
}
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif sudo -n true 2> /dev/null; then sudo "$@"; else return 1; fi
}

dockerd_pid=""
cleanup() {
    if [ -n "$dockerd_pid" ]; then
        # The engine this script started: stopped, and waited for, before its data goes.
        as_root kill "$dockerd_pid" 2> /dev/null || true
        for _ in $(seq 1 60); do
            as_root kill -0 "$dockerd_pid" 2> /dev/null || break
            sleep 0.5
        done
    fi
    # dockerd leaves its network namespace bound under its exec root: unmount what
    # remains under the work folder (deepest first), then remove it.
    awk -v work="$WORK/" 'index($2, work) == 1 {print $2}' /proc/mounts | sort -r \
        | while read -r mounted; do as_root umount "$mounted" 2> /dev/null || true; done
    as_root rm -rf "$WORK" 2> /dev/null || rm -rf "$WORK" 2> /dev/null || true
}
trap cleanup EXIT

install_packages() {
    local missing=()
    command -v dockerd > /dev/null || missing+=(docker.io)
    command -v debootstrap > /dev/null || missing+=(debootstrap)
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing ${missing[*]} from Debian's packages"
    # One apt at a time: .ci/run runs `make day`, which may install faketime, beside this.
    (
        flock 9
        as_root apt-get update -qq > "$WORK/apt.log" 2>&1 \
            && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
                >> "$WORK/apt.log" 2>&1
    ) 9> /tmp/source-aircall-apt.lock
}

engine() {
    if docker info > /dev/null 2>&1; then
        say "using the running Docker engine"
        return 0
    fi
    command -v dockerd > /dev/null || skip "no Docker engine answers and docker.io could not be installed (no root?)"
    # overlay2 where the kernel allows it (a container starts in a second); else vfs,
    # which runs anywhere but copies the whole image for every container (about a
    # minute for this image).
    local driver
    for driver in overlay2 vfs; do
        say "starting dockerd (storage driver $driver, no bridge)"
        as_root rm -rf "$WORK/docker"
        as_root dockerd --storage-driver="$driver" --iptables=false --bridge=none \
            --data-root "$WORK/docker" --exec-root "$WORK/docker-exec" \
            --pidfile "$WORK/dockerd.pid" > "$WORK/dockerd-$driver.log" 2>&1 &
        local waited
        for waited in $(seq 1 60); do
            if docker info > /dev/null 2>&1; then
                dockerd_pid="$(cat "$WORK/dockerd.pid")"
                say "dockerd up after ${waited} s"
                return 0
            fi
            # dockerd exits at once when the storage driver cannot work here.
            jobs -rp | grep -q . || break
            sleep 1
        done
        as_root kill "$(cat "$WORK/dockerd.pid" 2> /dev/null)" 2> /dev/null || true
        wait 2> /dev/null || true
        say "dockerd ($driver) log:"
        tail -n 5 "$WORK/dockerd-$driver.log" || true
    done
    skip "a Docker engine could not be started on this machine"
}

# The Debian mirror this machine's apt uses (deb822 or one-line sources).
debian_mirror() {
    local uri
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2> /dev/null || true)
    [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 ~ /bookworm/ {print $2; exit}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2> /dev/null || true)
    echo "$uri"
}

stand_in_base() {
    local rootfs="$WORK/rootfs" mirror
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || { say "no Debian mirror in /etc/apt"; return 1; }
    say "debootstrap bookworm (stand-in for the pinned base image)"
    as_root debootstrap --variant=minbase \
        --include=python3.11,python3-pip,python3-venv,ca-certificates \
        bookworm "$rootfs" "$mirror" > "$WORK/debootstrap.log" 2>&1 \
        || { tail -n 30 "$WORK/debootstrap.log"; return 1; }
    # This machine's CA bundle and pip settings (files and PIP_* variables), so that the
    # build's `pip install` reaches the index the machine uses.
    local bundle="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
    [ -f "$bundle" ] && as_root cp "$bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    "$PY" scripts/image_test_pip_conf.py > "$WORK/pip.conf"
    as_root cp "$WORK/pip.conf" "$rootfs/etc/pip.conf"
    as_root chroot "$rootfs" /bin/sh -euc '
        groupadd --gid 1000 airbyte
        useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash airbyte
        mkdir -p /airbyte && chown airbyte:airbyte /airbyte
        rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
        ln -sf python3 /usr/bin/python && ln -sf pip3 /usr/bin/pip
        rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/*
    '
    as_root tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'WORKDIR /airbyte' \
        - "$BASE_TAG" > /dev/null
}

install_packages || say "could not install docker.io/debootstrap (see $WORK/apt.log)"
engine
command -v debootstrap > /dev/null || { say "FAILED: debootstrap is missing"; exit 1; }
[ -x "$PY" ] || { say "FAILED: $PY is missing (the make target builds it)"; exit 1; }

t0=$(date +%s)
stand_in_base
t1=$(date +%s)
say "stand-in base image built in $((t1 - t0)) s"
docker build --network host --build-arg "BASE_IMAGE=$BASE_TAG" -t "$IMAGE" . > "$WORK/build.log" 2>&1 \
    || { tail -n 40 "$WORK/build.log"; say "FAILED: docker build"; exit 1; }
t2=$(date +%s)
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
base_size=$(docker image inspect -f '{{.Size}}' "$BASE_TAG")
say "connector image built in $((t2 - t1)) s: $((size / 1048576)) MiB ($((base_size / 1048576)) MiB of it the base)"
t3=$(date +%s)
docker run --rm --entrypoint true "$IMAGE"
say "one container started and removed in $(($(date +%s) - t3)) s"

status=0
IMAGE_TEST_IMAGE="$IMAGE" "$PY" -m pytest -q -rs -p no:cacheprovider tests/image || status=1
# Airbyte's standard image tests (spec, check, discover, read in the image), on the
# image just built. They call `docker run IMAGE <verb>` with no network or environment
# options; the sandbox they test against listens on loopback and its address is in the
# test process's AIRCALL_API_URL. A `docker` first on PATH adds the two to `docker run`.
real_docker=$(command -v docker)
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nif [ "$1" = run ]; then shift; exec %s run --network host -e AIRCALL_API_URL "$@"; fi\nexec %s "$@"\n' \
    "$real_docker" "$real_docker" > "$WORK/bin/docker"
chmod +x "$WORK/bin/docker"
PATH="$WORK/bin:$PATH" "$PY" -m pytest -q -rs -p no:cacheprovider \
    -p airbyte_cdk.test.standard_tests.pytest_hooks \
    tests/ecosystem/test_standard_suite.py -m image_tests --connector-image="$IMAGE" \
    --read-from-streams=all --read-scenarios=sample_config || status=1
say "total $(($(date +%s) - started)) s"
exit "$status"
