#!/usr/bin/env bash
# Runs the whole suite N times in a row (default 20) and prints one line per run and a tally:
# the proof that `npm test` does not depend on timing, memory, GC, load or order (docs/testing.md).
#   usage: bash scripts/repeat-tests.sh [N] [--busy]
#   --busy  keeps a CPU-heavy process running beside the suite (one busy loop per core).
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
busy=()
if [[ ${2:-} == --busy ]]; then
  for _ in $(seq "$(nproc)"); do node -e 'for(;;){}' & busy+=($!); done
  trap 'kill "${busy[@]}" 2>/dev/null' EXIT
fi
mkdir -p test-output
green=0
for i in $(seq "$N"); do
  log=test-output/repeat-$i.log
  start=$(date +%s)
  if npx vitest run --reporter=dot >"$log" 2>&1; then status=green; green=$((green + 1)); else status=RED; fi
  echo "run $i/$N: $status in $(( $(date +%s) - start )) s — $(grep -E '^ +Tests ' "$log" | tr -s ' ' | sed 's/^ //')"
done
echo "$green/$N green"
[[ $green -eq $N ]]
