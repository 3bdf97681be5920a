#!/usr/bin/env bash
# Installs the Debian packages vidi needs to build and test. Idempotent and
# quiet when nothing is missing; run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  clang libclang-rt-14-dev                      # ASan/UBSan build + libFuzzer
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  libopenblas-dev libopenblas0-pthread
  libcjson-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-libav   # gst decoder: avdec_h264 etc.
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  python3
  libopenmpi-dev openmpi-bin                    # vidi eval scale-out (VIDI_MPI), mpirun in the tests
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
