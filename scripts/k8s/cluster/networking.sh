# shellcheck shell=bash
# networking.sh is the network: the node bridge, the pod network (CNI bridge), kube-proxy, and removing their links
# and iptables chains.

make_node_bridge() {
  # This kernel has no dummy netdev; a bridge without ports holds an address just as well.
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || ip link add "$NODE_BRIDGE" type bridge
  ip addr replace "$NODE_IP/32" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
}

write_cni_config() {
  mkdir -p "$RUN/cni/net.d" "$RUN/cni/ipam"
  # Routes cover only the Service range and the node address, not a default
  # route: pods can reach the cluster and nothing beyond this machine.
  # No ipMasq for the same reason (nothing outside to masquerade to).
  cat >"$RUN/cni/net.d/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_SUBNET"}]],
        "routes": [{"dst": "$SERVICE_CIDR"}, {"dst": "$NODE_IP/32"}],
        "dataDir": "$RUN/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
}

# kube-proxy in iptables mode: Services on the node.
start_kube_proxy() {
  # Conntrack sizes 0: leave the host's values (setting them needs CAP_SYS_RESOURCE-like rights
  # and changes the whole machine). NodePorts only on the node address, never on eth0.
  start_daemon kube-proxy "$KUBE_BIN_DIR/kube-proxy" \
    --kubeconfig="$ADMIN_KUBECONFIG" --hostname-override="$NODE_NAME" --bind-address="$NODE_IP" \
    --proxy-mode=iptables --cluster-cidr="$CLUSTER_CIDR" --nodeport-addresses="$NODE_IP/32" \
    --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249 \
    --conntrack-max-per-core=0 --conntrack-min=0 \
    --conntrack-tcp-timeout-established=0s --conntrack-tcp-timeout-close-wait=0s
}

remove_links() {
  local veth
  for veth in $(ip -o link show master "$POD_BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
    ip link delete "$veth" 2>/dev/null || true
  done
  ip link delete "$POD_BRIDGE" 2>/dev/null || true
  ip link delete "$NODE_BRIDGE" 2>/dev/null || true
}

# iptables_cleanup FAMILY (iptables | ip6tables): removes every KUBE-* chain
# (kube-proxy, kubelet) and the CNI chains and rules of our network, in one
# --noflush restore so other rules on this machine are left as they are.
iptables_cleanup() {
  local family="$1" table save script
  command -v "$family-save" >/dev/null 2>&1 || return 0
  for table in filter nat mangle raw; do
    save="$("$family-save" -t "$table" 2>/dev/null)" || continue
    script="$(awk -v net="$CNI_NETWORK" -v table="$table" '
      # Pass over iptables-save output once, then decide.
      /^:/ { chain = substr($1, 2); chains[++n] = chain; next }
      /^-A / {
        rules[++r] = $0; rule_chain[r] = $2
        if (index($0, "name: \\\"")) {
          if (index($0, "name: \\\"" net "\\\"")) mine_rule[r] = 1
          else foreign = 1
        }
      }
      function target(line) {
        if (match(line, / -[jg] [^ ]+/)) return substr(line, RSTART + 4, RLENGTH - 4)
        return ""
      }
      END {
        # Our chains: all KUBE-*, per-container CNI-* chains holding our rules, and
        # the shared CNI-HOSTPORT-* chains when no other CNI network uses them.
        for (i = 1; i <= r; i++) {
          if (!mine_rule[i]) continue
          if (rule_chain[i] ~ /^CNI-/ && rule_chain[i] !~ /^CNI-HOSTPORT-/) ours[rule_chain[i]] = 1
          t = target(rules[i])
          if (t ~ /^CNI-/ && t !~ /^CNI-HOSTPORT-/) ours[t] = 1
        }
        for (i = 1; i <= n; i++) {
          if (chains[i] ~ /^KUBE-/) ours[chains[i]] = 1
          if (chains[i] ~ /^CNI-HOSTPORT-/ && !foreign) ours[chains[i]] = 1
        }
        out = ""
        for (i = 1; i <= r; i++) {
          if (ours[rule_chain[i]]) continue
          if (mine_rule[i] || ours[target(rules[i])]) out = out "-D " substr(rules[i], 4) "\n"
        }
        for (i = 1; i <= n; i++) if (ours[chains[i]]) out = out "-F " chains[i] "\n"
        for (i = 1; i <= n; i++) if (ours[chains[i]]) out = out "-X " chains[i] "\n"
        if (out != "") printf "*%s\n%sCOMMIT\n", table, out
      }' <<<"$save")"
    if [[ -n "$script" ]]; then
      "$family-restore" --noflush <<<"$script" || log "could not remove all $family $table rules"
    fi
  done
}
