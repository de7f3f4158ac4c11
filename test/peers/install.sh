#!/usr/bin/env bash
# install.sh: installs the test peers Ringdesk's end-to-end tests drive, from
# Debian (idempotent; about 0.1 s when all is there, ~30 s from nothing).
# Needs root for apt-get.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(sip-tester baresip-core linphone-cli wireshark-common tshark sox libsox-fmt-all espeak-ng iproute2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: missing ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
[ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v lock)" ] || apt-get update -q >/dev/null
# tshark asks whether non-root users may capture; say no without a prompt
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
