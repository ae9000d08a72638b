#!/usr/bin/env bash
# `kyc batch` of 10,000 users against a local sandbox: users per second, then a run killed
# midway and resumed, checking that every user ends with exactly one result line.
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

count_unique() { python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)["userId"] for l in open(sys.argv[1]))
print(len(c), sum(c.values()), max(c.values()) if c else 0)' "$1"; }

# 1. One whole run, timed.
start=$(date +%s.%N)
"$kyc" batch --input "$work/users.csv" --out "$work/full.jsonl" --concurrency "$concurrency" 2>/dev/null
end=$(date +%s.%N)
read -r distinct lines most < <(count_unique "$work/full.jsonl")
python3 -c "print(f'full run: {$users} users in {$end - $start:.2f} s = {$users / ($end - $start):.0f} users/s; {$distinct} users, {$lines} lines, at most {$most} line per user')"

# 2. Killed midway (SIGKILL once a third is done), then resumed with the same output.
"$kyc" batch --input "$work/users.csv" --out "$work/resumed.jsonl" --concurrency "$concurrency" 2>/dev/null &
victim=$!
while [ "$(wc -l 2>/dev/null <"$work/resumed.jsonl" || echo 0)" -lt $((users / 3)) ]; do sleep 0.05; done
kill -9 "$victim"; wait "$victim" 2>/dev/null || true
before=$(wc -l <"$work/resumed.jsonl")
"$kyc" batch --input "$work/users.csv" --out "$work/resumed.jsonl" --concurrency "$concurrency" 2>&1 | tail -1
read -r distinct lines most < <(count_unique "$work/resumed.jsonl")
echo "killed after $before lines, resumed: $distinct users, $lines lines, at most $most line per user"
[ "$distinct" -eq "$users" ] && [ "$lines" -eq "$users" ] && echo "every user has exactly one result line"
