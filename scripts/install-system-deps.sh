#!/usr/bin/env bash
# Installs the Debian packages the build links against, only those missing.
# oneDNN and OpenBLAS for the tensor engine; libjpeg-turbo (TurboJPEG, and the libjpeg API for
# partial decoding) and libpng for images; ffmpeg (run as
# a program, with ffprobe) for `yolo detect` on videos.
set -euo pipefail
packages=(libdnnl-dev libopenblas-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev ffmpeg)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo_cmd=""
    [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
