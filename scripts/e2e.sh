#!/usr/bin/env bash
# Browser tests of the console against a real `reclaim serve` on 127.0.0.1, in Debian's Chromium
# (installed from apt when missing) driven by playwright-core. Screenshots: web/test-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wqy; then
  # Chromium, and a CJK font so that zh-CN screenshots are legible.
  echo "e2e: installing Debian's chromium and fonts-wqy-microhei" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
./scripts/build-console.sh
make --no-print-directory build >/dev/null
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
export RECLAIM_PII_KEY=$(head -c 32 /dev/urandom | base64)
bin=$root/bin/reclaim
"$bin" --data-dir "$work/data" demo --loans 4000 --no-serve -q >"$work/demo.log"
"$bin" --data-dir "$work/data" synth --loans 400 --seed 99 --invalid claim_sum=0.03,national_id=0.02,date_format=0.02 \
  --out "$work/bad-tape.csv" -q >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --data-dir "$work/data" serve --addr "127.0.0.1:$port" --demo-witness --log-level warn >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
pw() { awk -v u="$1" '$1==u {print $2}' "$work/data/demo-accounts.txt"; }
cd web
RECLAIM_URL="http://127.0.0.1:$port" \
RECLAIM_ADMIN_USER=demo-admin RECLAIM_ADMIN_PASS="$(pw demo-admin)" \
RECLAIM_BIDDER_USER=demo-bidder RECLAIM_BIDDER_PASS="$(pw demo-bidder)" \
RECLAIM_BIDDER2_USER=demo-bidder2 RECLAIM_BIDDER2_PASS="$(pw demo-bidder2)" \
RECLAIM_ANALYST_USER=demo-analyst RECLAIM_ANALYST_PASS="$(pw demo-analyst)" \
RECLAIM_INVESTOR_USER=demo-investor RECLAIM_INVESTOR_PASS="$(pw demo-investor)" \
RECLAIM_COLLECTOR_USER=demo-collector RECLAIM_COLLECTOR_PASS="$(pw demo-collector)" \
RECLAIM_MANAGER_USER=demo-collection_manager RECLAIM_MANAGER_PASS="$(pw demo-collection_manager)" \
RECLAIM_LEGAL_USER=demo-legal RECLAIM_LEGAL_PASS="$(pw demo-legal)" \
RECLAIM_COMMITTEE_USER=demo-credit_committee RECLAIM_COMMITTEE_PASS="$(pw demo-credit_committee)" \
RECLAIM_BAD_TAPE="$work/bad-tape.csv" \
npm run --silent test:e2e
