#!/usr/bin/env bash
# Figures for the kyc-store ledger behind `kyc` (release build; scripted runs, not timed tests).
#   d  durable acks/s at 64 in flight: the JSONL receiver of the commit before the ledger
#      (OLD_KYC, built from OLD_REV when unset) vs SQLite, in ACKS_ROUNDS (3) interleaved
#      rounds, then PostgreSQL beside pgbench running the same transaction;
#   c  1,000,000 stored results: the listener's start time and RSS;
#   a  a flood of distinct callbacks over 3 replicas on one PostgreSQL (and 1 SQLite receiver)
#      with repeated SIGKILLs and restarts, senders retrying until OK: each acknowledged
#      callback stored exactly once, none lost;
#   b  a full disk (2 MiB tmpfs, needs root) under the SQLite ledger: no OK for what was not
#      stored; after space returns and a restart, nothing acknowledged is missing;
#   e  `kyc batch` of 100,000 users against the sandbox, users/s.
# Usage: bash benches/scripts/ledger-figures.sh [d c a b e]   (default: all)
# The load is `callback-load` (benches/src/bin/callback-load.rs): one thread, so that the
# receiver has the other core of a small machine.
# OLD_KYC / NEW_KYC: binaries already built (see below). PostgreSQL: KYC_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); each
# part works in a database of its own, dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
parts=${*:-d c a b e}
repo=$PWD
pg=${KYC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_server=${pg%/*}
secret=TEST_SECRET_DO_NOT_USE
work=$(mktemp -d)
databases=()
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    for db in "${databases[@]}"; do psql "$pg" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
    mountpoint -q "$work/full" 2>/dev/null && umount "$work/full"
    rm -rf "$work"
}
trap cleanup EXIT

# NEW_KYC: a release binary of this commit already built (skips the build).
if [ -z "${NEW_KYC:-}" ]; then
    cargo build --release -p kyc-cli --quiet
    NEW_KYC=target/release/kyc
fi
cp "$NEW_KYC" "$work/kyc"
kyc=$work/kyc
# The load: signed callbacks, 64 in flight, each retried until OK (benches/src/bin/callback-load.rs).
cargo build --release -p kyc-benches --bin callback-load --quiet
cp target/release/callback-load "$work/callback-load"
load=$work/callback-load

new_database() { # a fresh PostgreSQL database; prints its URL
    local name="kyc_fig_$$_$1"
    psql "$pg" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
    psql "$pg" -qc "CREATE DATABASE $name" >/dev/null
    databases+=("$name")
    echo "$pg_server/$name"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# listen PORT STORE [BINARY [--out FILE]]: starts a listener in the background, waits for it.
listen() {
    local port=$1 store=$2 binary=${3:-$kyc} log="$work/listener-$1.out"
    if [ "${4:-}" = "--out" ]; then
        "$binary" callback listen --listen "127.0.0.1:$port" --secret "$secret" --out "$5" >"$log" 2>/dev/null &
    else
        "$binary" callback listen --listen "127.0.0.1:$port" --secret "$secret" --store "$store" >"$log" 2>/dev/null &
    fi
    listener_pid=$!
    for _ in $(seq 400); do grep -q listening "$log" 2>/dev/null && return; sleep 0.01; done
    echo "listener on $port did not start" >&2; return 1
}

stored_sqlite() { sqlite3 -separator ' ' "$1" "SELECT count(*), count(DISTINCT user_id) FROM kyc_event"; }
stored_pg() { psql "$1" -qAtF' ' -c "SELECT count(*), count(DISTINCT user_id) FROM kyc_event"; }

part_d() {
    echo "== d: durable acks/s, 64 in flight"
    local n=${ACKS_COUNT:-30000}
    if [ -z "${OLD_KYC:-}" ]; then
        local rev=${OLD_REV:-8c5e061}
        git worktree add -q --detach "$work/old" "$rev"
        (cd "$work/old" && CARGO_TARGET_DIR="$repo/target" cargo build --release -p kyc-cli --quiet)
        cp target/release/kyc "$work/kyc-old"
        git worktree remove --force "$work/old"
        cargo build --release -p kyc-cli --quiet # put the new binary back in target/
        OLD_KYC=$work/kyc-old
    fi
    # Rounds of JSONL then SQLite, each on a fresh file: the machine's speed drifts, so each
    # round's ratio compares runs a few seconds apart, and the median round is the figure.
    local port ratios=()
    for round in $(seq "${ACKS_ROUNDS:-3}"); do
        rm -f "$work/old.jsonl" "$work/acks.db"*
        port=$(free_port); listen "$port" - "$OLD_KYC" --out "$work/old.jsonl"
        local old; old=$($load --targets "127.0.0.1:$port" --count "$n" --prefix "old$round")
        kill "$listener_pid"; wait "$listener_pid" 2>/dev/null || true
        echo "round $round JSONL (previous commit): $old; lines: $(wc -l <"$work/old.jsonl")"

        port=$(free_port); listen "$port" "sqlite://$work/acks.db"
        local new; new=$($load --targets "127.0.0.1:$port" --count "$n" --prefix "sqlite$round")
        kill "$listener_pid"; wait "$listener_pid" 2>/dev/null || true
        echo "round $round SQLite:                  $new; stored (events, users): $(stored_sqlite "$work/acks.db")"
        ratios+=("$(python3 -c "import json,sys; print(round(json.loads(sys.argv[2])['acks_per_s'] / json.loads(sys.argv[1])['acks_per_s'], 2))" "$old" "$new")")
    done
    echo "SQLite / JSONL per round: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"

    local url; url=$(new_database acks)
    port=$(free_port); listen "$port" "$url"
    echo -n "PostgreSQL:                      "; $load --targets "127.0.0.1:$port" --count "$n" --prefix pg
    kill "$listener_pid"; wait "$listener_pid" 2>/dev/null || true
    echo "  stored (events, users): $(stored_pg "$url")"
    # The baseline: the same transaction by pgbench, for one callback: the event, the user
    # (returning its state), the new state; the statements the ledger sends, one row each.
    cat >"$work/insert.sql" <<'SQL'
\set n random(1, 1000000000)
BEGIN;
INSERT INTO kyc_event (identity, user_id, kind, status, rank, at, fail_reason, code, retryable)
VALUES (sha256(('b' || :n || '-' || :client_id)::bytea), 'b-' || :n || '-' || :client_id, 'callback', '2', 1, 1728609277476, NULL, NULL, false)
ON CONFLICT (identity) DO NOTHING RETURNING identity;
INSERT INTO kyc_user (user_id, applications, last_event_at) VALUES ('b-' || :n || '-' || :client_id, 0, 1728609277476)
ON CONFLICT (user_id) DO UPDATE SET applications = kyc_user.applications + excluded.applications,
    last_event_at = GREATEST(kyc_user.last_event_at, excluded.last_event_at)
RETURNING user_id, status_at, status_rank, status, status_reason, status_identity;
INSERT INTO kyc_user (user_id, status_at, status_rank, status, status_reason, status_identity)
VALUES ('b-' || :n || '-' || :client_id, 1728609277476, 1, '2', NULL, sha256(('b' || :n || '-' || :client_id)::bytea))
ON CONFLICT (user_id) DO UPDATE SET status_at = excluded.status_at, status_rank = excluded.status_rank,
    status = excluded.status, status_reason = excluded.status_reason, status_identity = excluded.status_identity;
COMMIT;
SQL
    echo -n "pgbench, same transaction:       "
    pgbench -n -c 64 -j 2 -T 10 -f "$work/insert.sql" "$url" 2>/dev/null | grep -E "^tps" | head -1
}

part_c() {
    echo "== c: 1,000,000 stored results: listener start and RSS"
    local db=$work/million.db
    "$kyc" ledger summary --store "sqlite://$db" >/dev/null # creates the schema
    sqlite3 "$db" >/dev/null <<'SQL'
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO kyc_event (identity, user_id, kind, status, rank, at, fail_reason, code, retryable)
SELECT randomblob(32), printf('million-%07d', i), 'callback', '2', 1, 1728609277476 + i, NULL, NULL, 0 FROM n;
INSERT INTO kyc_user (user_id, status, status_rank, status_at, status_identity, applications, last_event_at)
SELECT user_id, status, rank, at, identity, 1, at FROM kyc_event;
COMMIT;
SQL
    echo "  stored: $(stored_sqlite "$db") (events, users); file $(du -h "$db" | cut -f1)"
    local port; port=$(free_port)
    local start end
    start=$(date +%s.%N)
    listen "$port" "sqlite://$db"
    end=$(date +%s.%N)
    $load --targets "127.0.0.1:$port" --count 100 --prefix after-million >/dev/null
    local rss; rss=$(awk '/VmHWM/ {print $2}' "/proc/$listener_pid/status")
    python3 -c "print(f'  start to listening: {$end - $start:.3f} s; peak RSS after 100 callbacks: {$rss / 1024:.1f} MiB')"
    kill "$listener_pid"; wait "$listener_pid" 2>/dev/null || true
}

# flood TARGET_PORTS STORE_KIND STORE COUNT: kills a random replica every second and restarts it.
flood() {
    local ports=$1 kind=$2 store=$3 n=$4
    declare -A pids
    for port in ${ports//,/ }; do listen "$port" "$store"; pids[$port]=$listener_pid; done
    local targets; targets=$(echo "$ports" | sed 's/\([0-9]*\)/127.0.0.1:\1/g')
    $load --targets "$targets" --count "$n" --prefix "flood-$kind" --acked "$work/acked-$kind" >"$work/load-$kind.out" &
    local loader=$! kills=0
    while kill -0 "$loader" 2>/dev/null; do
        sleep 1
        kill -0 "$loader" 2>/dev/null || break
        local ports_array=(${ports//,/ }) victim
        victim=${ports_array[$((RANDOM % ${#ports_array[@]}))]}
        kill -9 "${pids[$victim]}" 2>/dev/null || true
        wait "${pids[$victim]}" 2>/dev/null || true
        kills=$((kills + 1))
        sleep 0.2
        listen "$victim" "$store"; pids[$victim]=$listener_pid
    done
    wait "$loader" || true
    echo "  load: $(cat "$work/load-$kind.out"); SIGKILLs: $kills"
    for port in ${ports//,/ }; do kill "${pids[$port]}" 2>/dev/null || true; wait "${pids[$port]}" 2>/dev/null || true; done
}

check_flood() { # kind stored-events stored-users count
    local acked; acked=$(sort -u "$work/acked-$1" | wc -l)
    echo "  acknowledged: $acked distinct of $4 sent; stored: $2 events for $3 users"
    [ "$2" -eq "$3" ] && [ "$3" -ge "$acked" ] && [ "$acked" -eq "$4" ] \
        && echo "  every acknowledged callback stored exactly once, none lost" \
        || echo "  MISMATCH"
}

part_a() {
    local n=${FLOOD_COUNT:-20000}
    echo "== a: flood with SIGKILLs, 3 replicas on one PostgreSQL"
    local url; url=$(new_database flood)
    "$kyc" ledger summary --store "$url" >/dev/null
    flood "$(free_port),$(free_port),$(free_port)" pg "$url" "$n"
    read -r events users < <(stored_pg "$url")
    check_flood pg "$events" "$users" "$n"
    echo "== a: flood with SIGKILLs, 1 SQLite receiver"
    flood "$(free_port)" sqlite "sqlite://$work/flood.db" "$n"
    read -r events users < <(stored_sqlite "$work/flood.db")
    check_flood sqlite "$events" "$users" "$n"
}

part_b() {
    echo "== b: a full disk under the SQLite ledger (2 MiB tmpfs)"
    mkdir -p "$work/full"
    mount -t tmpfs -o size=2m tmpfs "$work/full"
    local port; port=$(free_port)
    listen "$port" "sqlite://$work/full/kyc.db"
    # Single attempts (no retry): count how many were acknowledged before the disk filled.
    python3 - "$port" "$work/full-acked" <<'PY'
import hashlib, http.client, json, sys
port, out = int(sys.argv[1]), open(sys.argv[2], "w")
ok = refused = 0
for i in range(40000):
    user = f"full-{i:06d}"
    fields = {"userId": user, "authenticationStatus": "2", "timestamp": str(1728609277476 + i)}
    canonical = "".join(f"{k}={fields[k]}" for k in sorted(fields)) + "TEST_SECRET_DO_NOT_USE"
    fields["sign"] = hashlib.md5(canonical.encode()).hexdigest()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/cb", json.dumps(fields), {"Content-Type": "application/json"})
    r = c.getresponse(); body = r.read()
    if r.status == 200 and body == b"OK":
        ok += 1; out.write(user + "\n"); out.flush()
    else:
        refused += 1
        if refused >= 200: break
print(f"  while filling: {ok} OK, then {refused} refused (status {r.status})")
PY
    kill -9 "$listener_pid"; wait "$listener_pid" 2>/dev/null || true
    df -h "$work/full" | tail -1 | awk '{print "  tmpfs: " $3 " used of " $2}'
    mount -o remount,size=64m "$work/full"
    listen "$port" "sqlite://$work/full/kyc.db"
    $load --targets "127.0.0.1:$port" --count 10 --prefix after-full >/dev/null
    kill "$listener_pid"; wait "$listener_pid" 2>/dev/null || true
    local missing
    missing=$(comm -23 <(sort "$work/full-acked") <(sqlite3 "$work/full/kyc.db" "SELECT user_id FROM kyc_event" | sort) | wc -l)
    echo "  after space returned and a restart: $(wc -l <"$work/full-acked") acknowledged, $missing missing; stored $(stored_sqlite "$work/full/kyc.db") (events, users, 10 sent after the restart)"
    umount "$work/full"
}

part_e() {
    echo "== e: kyc batch of 100,000 users against the sandbox"
    local users=${BATCH_USERS:-100000}
    "$kyc" sandbox --listen 127.0.0.1:0 --review-after 1h --final-after 2h >"$work/sandbox.out" 2>/dev/null &
    for _ in $(seq 100); do [ -s "$work/sandbox.out" ] && break; sleep 0.05; done
    {
        echo "userId,callBackUrl,usernameFurigana"
        for i in $(seq -w 1 "$users"); do echo "batch-$i,http://127.0.0.1:9/cb,テスト"; done
    } >"$work/users.csv"
    local start end
    start=$(date +%s.%N)
    KYC_BASE_URL=$(head -1 "$work/sandbox.out") KYC_MERCHANT_NO=1027749636 KYC_APP_SECRET=$secret \
        "$kyc" batch --input "$work/users.csv" --store "sqlite://$work/batch.db" --concurrency 64 2>&1 | tail -1
    end=$(date +%s.%N)
    python3 -c "print(f'  {$users} users in {$end - $start:.1f} s = {$users / ($end - $start):.0f} users/s')"
    echo "  stored: $(stored_sqlite "$work/batch.db") (events, users)"
}

for part in $parts; do "part_$part"; done
