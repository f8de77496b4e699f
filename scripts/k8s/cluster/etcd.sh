# shellcheck shell=bash
# etcd.sh starts the cluster's etcd.

# A single etcd member on loopback, its data in the run folder.
start_etcd() {
  start_daemon etcd "$ETCD_BIN" --name=geecache-k8s --data-dir="$RUN/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="geecache-k8s=http://127.0.0.1:$ETCD_PEER_PORT" --log-level=warn \
    --unsafe-no-fsync # a throw-away cluster: fsync only slows it down on these disks
  wait_for etcd "etcd health" curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}
