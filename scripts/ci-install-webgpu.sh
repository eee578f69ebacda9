#!/usr/bin/env bash
# Installs a Vulkan driver that Dawn (ONNX Runtime's WebGPU EP) accepts on a
# CPU-only Debian bookworm machine: Mesa lavapipe from bookworm-backports.
# The stock bookworm mesa (22.3) is rejected by Dawn, so backports is required.
# Prints the VK_ICD_FILENAMES value to export; tests find the json themselves.
# Idempotent: safe to run on every CI start. Needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

find_icd() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n1 || true
}

installed_mesa_major() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^([0-9]+:)?([0-9]+)\..*/\2/' || true
}

major="$(installed_mesa_major)"
if [ -n "$(find_icd)" ] && [ -n "$major" ] && [ "$major" -ge 24 ]; then
  echo "lavapipe already installed (mesa $major)"
else
  # Use the same mirror host the machine already uses for bookworm.
  mirror="$(grep -hoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -v security | head -n1 | tr -d ' ' || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  mirror="${mirror%/}"
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb ${mirror} bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -t bookworm-backports mesa-vulkan-drivers libvulkan1
fi

icd="$(find_icd)"
if [ -z "$icd" ]; then
  echo "lavapipe ICD json not found after install" >&2
  exit 1
fi
echo "VK_ICD_FILENAMES=$icd"
