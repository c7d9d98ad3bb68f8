#!/usr/bin/env bash
# flowdoc lab: real captures of stale long-lived connections from a real Linux TCP stack.
#
#   sudo bash lab/run.sh [SCENARIO...]      (default: every scenario; see lab/scenarios.mjs)
#
# Topology (network namespaces + veth pairs, nothing leaves the machine):
#
#   fdlab-client  c0 10.200.1.2 ──── lbc 10.200.1.1  fdlab-lb  lbs 10.200.2.1 ──── s0 10.200.2.2  fdlab-server
#                    fd00:200:1::2    fd00:200:1::1            fd00:200:2::1      fd00:200:2::2
#   VIPs on the LB (owned by no interface): 10.200.9.9:80 -> 10.200.2.2:8080, 10.200.9.10:80 -> 10.200.2.2:8081,
#                                           [fd00:200:9::9]:80 -> [fd00:200:2::2]:8080
#
# Needs: root, iproute2 (ip netns), iptables/ip6tables with conntrack + REJECT, ethtool, tcpdump, node >= 20,
# tshark + editcap + capinfos (to convert the server capture to pcapng and to fill truth.json),
# conntrack (optional: LB conntrack event log).  Env: FDLAB_OUT (default <repo>/captures), NODE.
set -euo pipefail

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB/.." && pwd)
OUT=${FDLAB_OUT:-$REPO/captures}
NODE=${NODE:-$(command -v node || true)}
NS_C=fdlab-client
NS_L=fdlab-lb
NS_S=fdlab-server
PIDS=()        # every background process this script started (killed by id in cleanup)
CAP_PIDS=()    # the tcpdump / conntrack -E ones of the current scenario
WORK=""

log() { printf '[lab] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

teardown_ns() {
  local ns pid
  for ns in "$NS_C" "$NS_L" "$NS_S"; do
    if ns_exists "$ns"; then
      # Only processes living inside the lab's own namespaces (left by this or an earlier run).
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
}

cleanup() {
  local rc=$? pid
  set +e
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  PIDS=()
  # iptables rules and conntrack state live only inside fdlab-lb: deleting the namespace removes them.
  teardown_ns
  [[ -n $WORK && -d $WORK ]] && rm -rf "$WORK"
  ((rc == 0)) || log "failed (exit $rc); namespaces and processes cleaned up"
  exit "$rc"
}

preflight() {
  ((EUID == 0)) || die "must run as root (network namespaces, iptables, tcpdump): sudo bash lab/run.sh"
  local t
  for t in ip iptables ip6tables ethtool tcpdump tshark editcap capinfos; do
    command -v "$t" >/dev/null || die "missing tool: $t (apt-get install -y iproute2 iptables ethtool tcpdump tshark)"
  done
  [[ -n $NODE ]] || die "node not found (set NODE=/path/to/node, >= 20)"
  local major
  major=$("$NODE" -p 'process.versions.node.split(".")[0]')
  ((major >= 20)) || die "node >= 20 required (found $("$NODE" --version))"
}

# ---------------------------------------------------------------- topology
setup_ns() {
  ip netns add "$NS_C"
  ip netns add "$NS_L"
  ip netns add "$NS_S"
  local ns i
  for ns in "$NS_C" "$NS_L" "$NS_S"; do
    ip -n "$ns" link set lo up
    # No IPv6 duplicate address detection: a tentative link-local address delays neighbour
    # discovery by ~1 s, and the first SYN of a scenario would sit in the LB's ND queue.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  ip link add c0 netns "$NS_C" type veth peer name lbc netns "$NS_L"
  ip link add s0 netns "$NS_S" type veth peer name lbs netns "$NS_L"

  ip -n "$NS_C" addr add "$CLIENT4/24" dev c0
  ip -n "$NS_C" addr add "$CLIENT6/64" dev c0 nodad
  ip -n "$NS_L" addr add "$LB_C4/24" dev lbc
  ip -n "$NS_L" addr add "$LB_C6/64" dev lbc nodad
  ip -n "$NS_L" addr add "$LB_S4/24" dev lbs
  ip -n "$NS_L" addr add "$LB_S6/64" dev lbs nodad
  ip -n "$NS_S" addr add "$SERVER4/24" dev s0
  ip -n "$NS_S" addr add "$SERVER6/64" dev s0 nodad
  ip -n "$NS_C" link set c0 up
  ip -n "$NS_L" link set lbc up
  ip -n "$NS_L" link set lbs up
  ip -n "$NS_S" link set s0 up
  # veth defaults to checksum offload: every TCP checksum in the captures would then be a
  # partial (pseudo-header) sum. Compute checksums in software so each capture is valid.
  ip netns exec "$NS_C" ethtool -K c0 tx off >/dev/null
  ip netns exec "$NS_L" ethtool -K lbc tx off >/dev/null
  ip netns exec "$NS_L" ethtool -K lbs tx off >/dev/null
  ip netns exec "$NS_S" ethtool -K s0 tx off >/dev/null

  ip -n "$NS_C" route add default via "$LB_C4"
  ip -n "$NS_C" -6 route add default via "$LB_C6"
  ip -n "$NS_S" route add default via "$LB_S4"
  ip -n "$NS_S" -6 route add default via "$LB_S6"

  for ((i = 0; i < 50; i++)); do
    [[ -z "$(for ns in "$NS_C" "$NS_L" "$NS_S"; do ip -n "$ns" -6 addr show tentative; done)" ]] && break
    sleep 0.1
  done

  ip netns exec "$NS_L" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  # The VIPs belong to no interface. The LB routes them toward its backends so that a packet
  # that is *not* DNATed (no conntrack entry any more) still reaches FORWARD, where the
  # INVALID rule below answers it -- instead of an ICMP "network unreachable".
  ip -n "$NS_L" route add "$VIP4_NET" via "$SERVER4"
  ip -n "$NS_L" -6 route add "$VIP6_NET" via "$SERVER6"
}

# The middlebox: DNAT VIP -> server (no SNAT: the server sees the client's own address, like
# an NLB with client-IP preservation), an idle timeout via conntrack, and what it does with a
# packet of a connection it has forgotten: REJECT with an RST (source = VIP, TTL 64) or DROP.
TIMEOUT_MECHANISM=""
setup_lb() {
  local want=$LB_TIMEOUT root_before root_after got lb_before
  root_before=$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established 2>/dev/null || echo n/a)
  lb_before=$(ip netns exec "$NS_L" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)
  ip netns exec "$NS_L" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
  ip netns exec "$NS_L" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$want"
  got=$(ip netns exec "$NS_L" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)
  root_after=$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established 2>/dev/null || echo n/a)
  if [[ $got == "$want" && $root_after == "$root_before" ]] && [[ ${FDLAB_FORCE_NFT_TIMEOUT:-0} != 1 ]]; then
    TIMEOUT_MECHANISM="sysctl net.netfilter.nf_conntrack_tcp_timeout_established=$want in $NS_L (per-netns; root ns unchanged: $root_after)"
  else
    # Fallback when the sysctl is not per-netns (or when forced): restore the root value and
    # give the LB's connections an nftables conntrack timeout policy instead.
    ip netns exec "$NS_L" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$lb_before"
    [[ $root_after == "$root_before" ]] || sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$root_before"
    command -v nft >/dev/null || die "conntrack timeout sysctl is not per-netns here and nft is missing (apt-get install nftables)"
    local fam
    for fam in ip ip6; do
      ip netns exec "$NS_L" nft -f - <<EOF
table $fam fdlab_timeout {
  ct timeout lbidle {
    protocol tcp
    l3proto $fam
    policy = { established: $want }
  }
  chain pre {
    type filter hook prerouting priority 0; policy accept;
    ct state new ct timeout set "lbidle"
  }
}
EOF
    done
    TIMEOUT_MECHANISM="nftables ct timeout policy (established $want s) in $NS_L"
  fi
  local ipt
  for ipt in iptables ip6tables; do
    ip netns exec "$NS_L" "$ipt" -P FORWARD ACCEPT
    ip netns exec "$NS_L" "$ipt" -A FORWARD -p tcp -m conntrack --ctstate INVALID \
      -j "$LB_ACTION" $([[ $LB_ACTION == REJECT ]] && echo --reject-with tcp-reset)
    ip netns exec "$NS_L" "$ipt" -A FORWARD -m conntrack --ctstate INVALID -j DROP
  done
  ip netns exec "$NS_L" iptables -t nat -A PREROUTING -d "$VIP4" -p tcp --dport "$VIP_PORT" -j DNAT --to-destination "$SERVER4:$SERVER_PORT"
  ip netns exec "$NS_L" iptables -t nat -A PREROUTING -d "$VIP4_B" -p tcp --dport "$VIP_PORT" -j DNAT --to-destination "$SERVER4:$SERVER_PORT_B"
  ip netns exec "$NS_L" ip6tables -t nat -A PREROUTING -d "$VIP6" -p tcp --dport "$VIP_PORT" -j DNAT --to-destination "[$SERVER6]:$SERVER_PORT"
}

# ---------------------------------------------------------------- captures
start_capture() { # ns iface file [tcpdump args...]
  local ns=$1 ifc=$2 file=$3 i
  shift 3
  # -U + --immediate-mode: every packet is written at once; -Z root: write the file as root.
  # -B: with the default snaplen, libpcap's ring for "-i any" has fixed ~256 KiB slots, so the
  # default 2 MiB buffer holds only ~7 packets and a short burst is lost while tcpdump is not
  # scheduled (seen on a 2-CPU VM). 32 MiB per capture; drops are checked after the run.
  ip netns exec "$ns" tcpdump -i "$ifc" -n -U --immediate-mode -B 32768 -Z root "$@" -w "$file" tcp 2>"$file.stderr" &
  PIDS+=($!)
  CAP_PIDS+=($!)
  for ((i = 0; i < 100; i++)); do
    grep -qs 'listening on' "$file.stderr" && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$file.stderr" >&2; die "tcpdump on $ns/$ifc died"; }
    sleep 0.1
  done
  die "tcpdump on $ns/$ifc never said 'listening on'"
}

stop_captures() {
  local pid
  for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${CAP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  CAP_PIDS=()
}

# ---------------------------------------------------------------- one scenario
run_scenario() {
  local name=$1 w dest srv_pid i
  eval "$("$NODE" "$LAB/scenarios.mjs" env "$name")"
  log "=== $name: LB idle timeout ${LB_TIMEOUT}s, forgotten connections -> $LB_ACTION, server keepAliveTimeout ${SERVER_KA_MS} ms"
  teardown_ns
  setup_ns
  setup_lb
  w="$WORK/$name"
  mkdir -p "$w"

  if command -v conntrack >/dev/null; then
    ip netns exec "$NS_L" conntrack -E -p tcp -o timestamp >"$w/lb-conntrack-events.txt" 2>/dev/null &
    PIDS+=($!)
    CAP_PIDS+=($!)
  fi
  start_capture "$NS_C" any "$w/client-any.pcap"
  start_capture "$NS_C" c0 "$w/client-eth.pcap"
  start_capture "$NS_S" s0 "$w/server.pcap" --time-stamp-precision=nano
  start_capture "$NS_L" any "$w/lb-any.pcap"
  local watch_pid=""
  if ((WATCH)); then
    # `flowdoc watch --interface` as a user runs it in a debug container (issue 16): its own tcpdump
    # on the client's Ethernet, its events as they come, its raw capture kept with --save.
    [[ -f $REPO/dist/cli/main.js ]] || die "flowdoc is not built: npm run build"
    mkdir -p "$w/watch-save"
    ip netns exec "$NS_C" "$NODE" "$REPO/bin/flowdoc.js" watch --interface c0 --filter tcp --stats-interval 5 \
      --save "$w/watch-save" >"$w/watch-client.ndjson" 2>"$w/watch-client.stderr" &
    watch_pid=$!
    PIDS+=($watch_pid)
    for ((i = 0; i < 100; i++)); do
      grep -qs '"event":"listening"' "$w/watch-client.ndjson" && break
      kill -0 "$watch_pid" 2>/dev/null || { cat "$w/watch-client.stderr" >&2; die "flowdoc watch died"; }
      sleep 0.1
    done
    grep -qs '"event":"listening"' "$w/watch-client.ndjson" || die "flowdoc watch never said it was listening"
  fi
  # Headers-only captures (issue 19): the same interfaces again, cut by tcpdump itself at each
  # snap length (`tcpdump -s N`), beside the full captures that truth.json is computed from.
  local snap
  for snap in $SNAPLENS; do
    start_capture "$NS_C" any "$w/client-any-s$snap.pcap" -s "$snap"
    start_capture "$NS_C" c0 "$w/client-eth-s$snap.pcap" -s "$snap"
    start_capture "$NS_L" any "$w/lb-any-s$snap.pcap" -s "$snap"
  done

  ip netns exec "$NS_S" "$NODE" "$LAB/server.mjs" --log "$w/server.log" --ready "$w/server.ready" \
    --keep-alive-timeout "$SERVER_KA_MS" $( ((H2_GOAWAY_MS >= 0)) && echo --h2 "$H2_GOAWAY_MS") "$SERVER4:$SERVER_PORT" "$SERVER4:$SERVER_PORT_B" "[$SERVER6]:$SERVER_PORT" &
  srv_pid=$!
  PIDS+=($srv_pid)
  for ((i = 0; i < 100; i++)); do [[ -s $w/server.ready ]] && break; sleep 0.1; done
  [[ -s $w/server.ready ]] || die "server did not start"

  local cli_pid=""
  if ((HOLD_OPEN)); then
    # The scenario ends with connections still open: the client says when it is done and keeps
    # its sockets; the captures stop while they are open, and only then is the client killed.
    ip netns exec "$NS_C" "$NODE" "$LAB/client.mjs" "$name" "$w" &
    cli_pid=$!
    PIDS+=($cli_pid)
    while [[ ! -e $w/client.holding ]]; do
      kill -0 "$cli_pid" 2>/dev/null || die "client exited before holding its connections open"
      sleep 0.1
    done
  elif ((H2_GOAWAY_MS >= 0)); then
    ip netns exec "$NS_C" "$NODE" "$LAB/h2-client.mjs" "$name" "$w" # HTTP/2 scenarios (issue 19)
  else
    ip netns exec "$NS_C" "$NODE" "$LAB/client.mjs" "$name" "$w"
  fi
  # What watch had told by the time the client finished: its incidents came live, not at the end.
  if [[ -n $watch_pid ]]; then stat -c %s "$w/watch-client.ndjson" >"$w/watch-client.bytes-at-client-end"; fi
  # Socket states right after the client finished: e.g. the server's socket of a connection
  # the LB forgot is still ESTABLISHED; a socket destroy()ed into a black hole sits in FIN-WAIT-1.
  {
    echo "client namespace (ss -tano):"
    ip netns exec "$NS_C" ss -tano | sed 's/^/  /'
    echo "server namespace (ss -tano):"
    ip netns exec "$NS_S" ss -tano | sed 's/^/  /'
  } >"$w/sockets.txt"

  sleep 1.5 # drain: let the last packets (FIN/ACK, retransmissions) reach every capture
  stop_captures
  if [[ -n $watch_pid ]]; then kill -INT "$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true; fi
  if [[ -n $cli_pid ]]; then kill -KILL "$cli_pid" 2>/dev/null || true; wait "$cli_pid" 2>/dev/null || true; fi
  kill -TERM "$srv_pid" 2>/dev/null || true
  wait "$srv_pid" 2>/dev/null || true

  # tcpdump 4.99 writes only pcap; the server capture (taken with nanosecond timestamps) is
  # converted losslessly to pcapng by editcap, keeping the 1e-9 resolution (if_tsresol = 9).
  editcap -F pcapng "$w/server.pcap" "$w/server.pcapng"

  {
    echo "scenario: $name   run: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel: $(uname -r)"
    echo "tcpdump: $(tcpdump --version 2>&1 | head -1); $(tcpdump --version 2>&1 | sed -n 2p)"
    echo "tshark: $(tshark --version 2>/dev/null | head -1)"
    echo "node: $("$NODE" --version)"
    echo "lb idle timeout: $TIMEOUT_MECHANISM"
    echo "lb nf_conntrack_tcp_timeout_established: $(ip netns exec "$NS_L" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)  (root ns: $(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established))"
    echo "lb nf_conntrack_tcp_loose: $(ip netns exec "$NS_L" cat /proc/sys/net/netfilter/nf_conntrack_tcp_loose)"
    echo "lb forgotten-connection action: $LB_ACTION"
    echo "default TTL: client $(ip netns exec "$NS_C" cat /proc/sys/net/ipv4/ip_default_ttl), lb $(ip netns exec "$NS_L" cat /proc/sys/net/ipv4/ip_default_ttl), server $(ip netns exec "$NS_S" cat /proc/sys/net/ipv4/ip_default_ttl)"
    echo "lb rules:"
    ip netns exec "$NS_L" iptables -S | sed 's/^/  /'
    ip netns exec "$NS_L" iptables -t nat -S PREROUTING | sed 's/^/  /'
    ip netns exec "$NS_L" ip6tables -S FORWARD | sed 's/^/  /'
    ip netns exec "$NS_L" ip6tables -t nat -S PREROUTING | sed 's/^/  /'
    echo "sockets after the client exited, before the captures stopped:"
    sed 's/^/  /' "$w/sockets.txt"
    echo "tcpdump said:"
    for f in "$w"/*.pcap.stderr; do
      echo "  $(basename "${f%.stderr}"): $(grep -h 'listening on' "$f")"
      echo "  $(basename "${f%.stderr}"): $(grep -h 'packets' "$f" | paste -sd, | sed 's/,/, /g')"
    done
  } >"$w/lab-run.txt"

  teardown_ns

  for f in "$w"/*.pcap.stderr; do
    grep -q '^0 packets dropped by kernel' "$f" || die "$(basename "${f%.stderr}"): tcpdump lost packets: $(grep dropped "$f")"
  done

  dest="$OUT/$name"
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$w"/{client-any.pcap,client-eth.pcap,server.pcap,server.pcapng,lb-any.pcap,client.log,server.log,client-run.json,lab-run.txt} "$dest/"
  [[ -f $w/lb-conntrack-events.txt ]] && cp "$w/lb-conntrack-events.txt" "$dest/"
  if [[ -n $watch_pid ]]; then cp -r "$w"/{watch-client.ndjson,watch-client.stderr,watch-client.bytes-at-client-end,watch-save} "$dest/"; fi
  for snap in $SNAPLENS; do cp "$w"/*-s"$snap".pcap "$dest/"; done
  if ((H2_GOAWAY_MS >= 0)); then "$NODE" "$LAB/h2-verify.mjs" "$name" "$dest"; else "$NODE" "$LAB/verify.mjs" "$name" "$dest"; fi
  if [[ -n $SNAPLENS ]]; then "$NODE" "$LAB/snaplen-verify.mjs" "$name" "$dest"; fi
}

# ---------------------------------------------------------------- main
preflight
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mapfile -t ALL < <("$NODE" "$LAB/scenarios.mjs" list)
if (($# == 0)); then set -- "${ALL[@]}"; fi
for s in "$@"; do
  printf '%s\n' "${ALL[@]}" | grep -qx -- "$s" || die "unknown scenario '$s' (known: ${ALL[*]})"
done

teardown_ns # leftovers of an interrupted earlier run
WORK=$(mktemp -d /tmp/fdlab.XXXXXX)
mkdir -p "$OUT"
for s in "$@"; do run_scenario "$s"; done
log "done: $*  ->  $OUT"
