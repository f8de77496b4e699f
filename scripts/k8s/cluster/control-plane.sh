# shellcheck shell=bash
# control-plane.sh makes the certificates, tokens and kubeconfigs, and starts kube-apiserver, kube-controller-manager,
# kube-scheduler and CoreDNS.

make_pki() {
  local ext="$PKI/apiserver.ext"
  mkdir -p "$PKI"
  # One CA signs the apiserver's serving cert; kubeconfigs and kube-root-ca.crt carry it.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=geecache-k8s-ca" \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  # Pods reach the apiserver as kubernetes.default (10.96.0.1), the host as 10.250.0.1.
  cat >"$ext" <<EOF
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:$NODE_IP, IP:$KUBERNETES_SERVICE_IP, IP:127.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:$NODE_NAME
EOF
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$PKI/apiserver.crt" 2>/dev/null
  # Service-account tokens are signed with sa.key and checked with sa.pub.
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
}

# write_kubeconfig FILE USER TOKEN
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: geecache-k8s
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: geecache-k8s
  context: {cluster: geecache-k8s, user: $2, namespace: default}
current-context: geecache-k8s
EOF
  chmod 600 "$1"
}

make_credentials() {
  local admin_token node_token coredns_token
  admin_token="$(openssl rand -hex 24)"
  node_token="$(openssl rand -hex 24)"
  coredns_token="$(openssl rand -hex 24)"
  # The kubelet authenticates as a node so the Node authorizer and NodeRestriction apply to it.
  # CoreDNS is a user in no group: it may do only what apply_coredns_rbac grants.
  cat >"$PKI/tokens.csv" <<EOF
$admin_token,admin,uid-admin,"system:masters"
$node_token,system:node:$NODE_NAME,uid-node,"system:nodes"
$coredns_token,system:coredns,uid-coredns
EOF
  chmod 600 "$PKI/tokens.csv"
  write_kubeconfig "$ADMIN_KUBECONFIG" admin "$admin_token"
  write_kubeconfig "$CONF/kubelet.kubeconfig" "system:node:$NODE_NAME" "$node_token"
  write_kubeconfig "$CONF/coredns.kubeconfig" system:coredns "$coredns_token"
}

# Starts kube-apiserver and waits for /readyz; up and `apiserver start` share it.
# Every flag comes from constants and run-folder files, so a restart gets the same ones.
# --shutdown-watch-termination-grace-period ends open watches at SIGTERM: without
# it the HTTP server waits for them until its 60 s shutdown timeout, and
# `apiserver stop` under load ended in SIGKILL after 20 s.
start_apiserver() {
  start_daemon kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
    --cert-dir="$PKI/apiserver-certs" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --kubelet-preferred-address-types=InternalIP \
    --shutdown-watch-termination-grace-period=5s \
    --profiling=false
  wait_apiserver_ready
}

wait_apiserver_ready() {
  local token
  token="$(awk -F, '$2 == "admin" { print $1 }' "$PKI/tokens.csv")"
  wait_for kube-apiserver "kube-apiserver /readyz" \
    curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $token" "https://$NODE_IP:$APISERVER_PORT/readyz"
}

# kube-controller-manager and kube-scheduler, on loopback, with the admin credentials.
start_controllers() {
  # '*' runs every controller: a shorter list leaves e.g. StatefulSets without pods.
  # --root-ca-file fills the kube-root-ca.crt ConfigMap pods use to trust the apiserver.
  start_daemon kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig="$ADMIN_KUBECONFIG" --authentication-kubeconfig="$ADMIN_KUBECONFIG" \
    --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
    --bind-address=127.0.0.1 --cert-dir="$PKI/controller-manager-certs" \
    --controllers='*' --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --flex-volume-plugin-dir="$KUBELET_ROOT/volume-plugins" \
    --leader-elect=false --profiling=false
  start_daemon kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" \
    --kubeconfig="$ADMIN_KUBECONFIG" --authentication-kubeconfig="$ADMIN_KUBECONFIG" \
    --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
    --bind-address=127.0.0.1 --cert-dir="$PKI/scheduler-certs" \
    --leader-elect=false --profiling=false
}

# The rights kubeadm gives CoreDNS (its system:coredns ClusterRole), bound to
# our token's user rather than a ServiceAccount, since CoreDNS runs on the host.
apply_coredns_rbac() {
  kc apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns"}
EOF
}

write_corefile() {
  cat >"$CONF/Corefile" <<EOF
# Service, pod and reverse (Service and pod IP) names come from the API server.
# No fallthrough: a name the cluster does not know is NXDOMAIN.
$CLUSTER_DOMAIN:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $CLUSTER_DNS_IP
    errors
    log . {
        class denial error
    }
    ready 127.0.0.1:$COREDNS_READY_PORT
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $CONF/coredns.kubeconfig
        pods insecure
    }
}
# Every other name: there is no upstream (no internet, and no query may leave
# this machine), so answer NXDOMAIN at once rather than let clients time out.
.:53 {
    bind $CLUSTER_DNS_IP
    errors
    log . {
        class denial error
    }
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
}

# CoreDNS on the node address (see the header of cluster.sh).
start_coredns() {
  write_corefile
  start_daemon coredns "$COREDNS_BIN" -conf "$CONF/Corefile"
}
