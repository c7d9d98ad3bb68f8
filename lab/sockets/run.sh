#!/usr/bin/env bash
# Real `ss` output and /proc/net/tcp{,6} dumps of idle connections, with and without SO_KEEPALIVE,
# for `flowdoc sockets` (test/fixtures/sockets/). Needs root, iproute2 (ip, ss), iptables, node >= 20.
#
#   sudo bash lab/sockets/run.sh [OUTDIR]     (default: test/fixtures/sockets)
#
# Two network namespaces joined by a veth pair (nothing leaves the machine):
#   fd15-client  fd15c 10.215.0.1 fd00:215::1  ────  fd15s 10.215.0.2 fd00:215::2  fd15-server
# The server (peer.mjs server) listens on :8080 (api), :8081 (orders) and :8082 (a port whose
# packets are then dropped, to get real retransmissions and unacknowledged bytes). The client
# (peer.mjs client plan.json) opens the connections of plan.json, one request each, then idles.
# Snapshots are taken the way an SRE would: `while sleep 5; do date; ss -tnoi; done`.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${1:-$REPO/test/fixtures/sockets}
NODE=${NODE:-$(command -v node)}
NS_C=fd15-client
NS_S=fd15-server
SERVER_PID="" CLIENT_PID=""

cleanup() {
  set +e
  [[ -n $CLIENT_PID ]] && kill -TERM "$CLIENT_PID" 2>/dev/null
  [[ -n $SERVER_PID ]] && kill -TERM "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  ip netns del "$NS_C" 2>/dev/null
  ip netns del "$NS_S" 2>/dev/null
}
trap cleanup EXIT
((EUID == 0)) || { echo "must run as root" >&2; exit 1; }
for ns in "$NS_C" "$NS_S"; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add fd15c netns "$NS_C" type veth peer name fd15s netns "$NS_S"
ip -n "$NS_C" addr add 10.215.0.1/24 dev fd15c
ip -n "$NS_C" addr add fd00:215::1/64 dev fd15c nodad
ip -n "$NS_S" addr add 10.215.0.2/24 dev fd15s
ip -n "$NS_S" addr add fd00:215::2/64 dev fd15s nodad
ip -n "$NS_C" link set fd15c up
ip -n "$NS_S" link set fd15s up
mkdir -p "$OUT"

coproc SERVER { exec ip netns exec "$NS_S" "$NODE" "$HERE/peer.mjs" server 10.215.0.2:8080 10.215.0.2:8081 10.215.0.2:8082 '[fd00:215::2]:8080'; }
SERVER_PID=$SERVER_PID
read -r line <&"${SERVER[0]}"; [[ $line == listening ]] || { echo "server: $line" >&2; exit 1; }
coproc CLIENT { exec ip netns exec "$NS_C" "$NODE" "$HERE/peer.mjs" client "$HERE/plan.json"; }
CLIENT_PID=$CLIENT_PID
read -r line <&"${CLIENT[0]}"; [[ $line == ready ]] || { echo "client: $line" >&2; exit 1; }

# The 8082 server stops answering: the client's next request is retransmitted, unacknowledged.
ip netns exec "$NS_S" iptables -A INPUT -p tcp --dport 8082 -j DROP
echo "send blackholed" >&"${CLIENT[1]}"; read -r line <&"${CLIENT[0]}"

snapshot() { date; ip netns exec "$NS_C" ss -tnoi; }
{
  for i in 1 2 3 4 5 6; do
    sleep 5
    snapshot
    # After the second snapshot one idle connection without keepalive goes away (the pool closed it).
    if ((i == 2)); then echo "close api-nokeepalive-2" >&"${CLIENT[1]}"; read -r line <&"${CLIENT[0]}"; fi
  done
} >"$OUT/ss-tnoi-snapshots.txt"
ip netns exec "$NS_C" ss -tnoi >"$OUT/ss-tnoi.txt"
ip netns exec "$NS_C" ss -tnoie >"$OUT/ss-tnoie.txt"
ip netns exec "$NS_C" ss -tan -o >"$OUT/ss-tan-o.txt"
ip netns exec "$NS_S" ss -tnoi >"$OUT/ss-tnoi-server.txt"
ip netns exec "$NS_C" cat /proc/net/tcp >"$OUT/proc-net-tcp.txt"
ip netns exec "$NS_C" cat /proc/net/tcp6 >"$OUT/proc-net-tcp6.txt"
{ uname -sr; ss --version; "$NODE" --version; ip netns exec "$NS_C" sysctl net.ipv4.tcp_keepalive_time net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes; } >"$OUT/environment.txt"
echo "wrote $OUT" >&2
