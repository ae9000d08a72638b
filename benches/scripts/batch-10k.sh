#!/usr/bin/env bash
# `kyc batch` of 10,000 users against a local sandbox into a SQLite ledger: users per second,
# then a run killed midway and resumed, checking that every user ends with exactly one
# accepted application.
# Usage: bash benches/scripts/batch-10k.sh [users] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${1:-10000}
concurrency=${2:-16}
cargo build --release --locked -p kyc-cli --quiet
kyc=target/release/kyc
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$kyc" sandbox --listen 127.0.0.1:0 --review-after 1h --final-after 2h >"$work/sandbox.out" 2>/dev/null &
for _ in $(seq 100); do [ -s "$work/sandbox.out" ] && break; sleep 0.05; done
export KYC_BASE_URL=$(head -1 "$work/sandbox.out") KYC_MERCHANT_NO=1027749636 KYC_APP_SECRET=TEST_SECRET_DO_NOT_USE

{
    echo "userId,callBackUrl,usernameFurigana"
    for i in $(seq -w 1 "$users"); do echo "batch-$i,http://127.0.0.1:9/cb,テスト"; done
} >"$work/users.csv"

count_unique() { "$kyc" ledger export --format jsonl --store "sqlite://$1" | python3 -c '
import json, sys
states = [json.loads(l) for l in sys.stdin]
print(len(states), sum(s["applications"] for s in states), max((s["applications"] for s in states), default=0))'; }

# 1. One whole run, timed.
start=$(date +%s.%N)
"$kyc" batch --input "$work/users.csv" --store "sqlite://$work/full.db" --concurrency "$concurrency" 2>/dev/null
end=$(date +%s.%N)
read -r distinct lines most < <(count_unique "$work/full.db")
python3 -c "print(f'full run: {$users} users in {$end - $start:.2f} s = {$users / ($end - $start):.0f} users/s; {$distinct} users, {$lines} accepted applications, at most {$most} per user')"

# 2. Killed midway (SIGKILL once a third is done), then resumed with the same ledger.
"$kyc" batch --input "$work/users.csv" --store "sqlite://$work/resumed.db" --concurrency "$concurrency" 2>/dev/null &
victim=$!
until [ -s "$work/resumed.db" ] && [ "$("$kyc" ledger summary --json --store "sqlite://$work/resumed.db" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).values()))')" -ge $((users / 3)) ]; do sleep 0.2; done
kill -9 "$victim"; wait "$victim" 2>/dev/null || true
before=$("$kyc" ledger summary --json --store "sqlite://$work/resumed.db" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).values()))')
"$kyc" batch --input "$work/users.csv" --store "sqlite://$work/resumed.db" --concurrency "$concurrency" 2>&1 | tail -1
read -r distinct lines most < <(count_unique "$work/resumed.db")
echo "killed after $before users, resumed: $distinct users, $lines accepted applications, at most $most per user"
[ "$distinct" -eq "$users" ] && [ "$lines" -eq "$users" ] && echo "every user has exactly one accepted application"
