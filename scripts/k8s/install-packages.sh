#!/usr/bin/env bash
# install-packages.sh installs the Debian packages the local cluster needs (containerd, runc, CNI plugins, iptables, ...), only when missing.
#
# Idempotent: when every package is already installed, apt is not touched (no
# `apt-get update`, no network). Progress goes to stderr.
set -euo pipefail

# containerd 1.6 + runc run the pods; the CNI plugins (/usr/lib/cni) give them
# the cni0 bridge; kube-proxy and the portmap plugin write iptables rules;
# conntrack lets kube-proxy flush stale UDP entries; openssl makes the certs;
# jq and curl are used by the scripts; busybox-static gives smoke-test.sh an
# image with a shell and wget.
PACKAGES=(containerd runc containernetworking-plugins iptables iproute2 conntrack openssl jq curl busybox-static)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-packages: all present (${PACKAGES[*]})" >&2
  exit 0
fi

if ((EUID != 0)); then
  echo "install-packages: missing ${missing[*]}; run as root to install them" >&2
  exit 77
fi

echo "install-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Other jobs on this machine may hold the dpkg lock; wait for it instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=600 -y --no-install-recommends)
if ! apt-get install "${apt_opts[@]}" "${missing[@]}" >&2; then
  # A stale package index is the usual cause; refresh it once and retry.
  apt-get -o DPkg::Lock::Timeout=600 update >&2
  apt-get install "${apt_opts[@]}" "${missing[@]}" >&2
fi
echo "install-packages: installed ${missing[*]}" >&2
