# versions.sh (sourced) pins the Kubernetes, etcd, CoreDNS and pause versions and the cache paths built from them.
# shellcheck shell=bash disable=SC2034 # every name here is used by the scripts that source it
#
# Every artifact path contains its version, so bumping a version here makes
# build.sh build the new one beside the old instead of trusting a stale binary.

KUBE_VERSION=1.37.2
# The staging repos (k8s.io/api, k8s.io/client-go, ...) are tagged v0.<minor>.<patch>.
KUBE_STAGING_VERSION="0.${KUBE_VERSION#*.}"
ETCD_VERSION=3.6.16
# The newest patch of the newest minor past .0 that the Go module proxy lists.
COREDNS_VERSION=1.14.7
PAUSE_TAG=3.6
# containerd 1.6's default sandbox_image; cluster.sh also sets it explicitly.
PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_TAG"

KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

K8S_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
K8S_CACHE_DIR="$K8S_REPO_ROOT/.cache/k8s"
KUBE_BIN_DIR="$K8S_CACHE_DIR/kube-$KUBE_VERSION/bin"
ETCD_BIN="$K8S_CACHE_DIR/etcd-$ETCD_VERSION/etcd"
COREDNS_BIN="$K8S_CACHE_DIR/coredns-$COREDNS_VERSION/coredns"
PAUSE_TAR="$K8S_CACHE_DIR/pause-$PAUSE_TAG.tar"
