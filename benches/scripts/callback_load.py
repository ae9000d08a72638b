#!/usr/bin/env python3
"""Signed, distinct callbacks POSTed to `kyc callback listen` replicas, N in flight, each
retried (on any replica, after a connection error or a non-OK answer) until it is answered OK.

Usage: callback_load.py --targets host:port[,host:port...] --count N [--in-flight 64]
       [--secret S] [--prefix P] [--acked FILE]

Prints one JSON line: {"count", "seconds", "acks_per_s", "retries"}; with --acked, writes
each acknowledged userId, one per line, as it is acknowledged (for the lost/duplicate checks).
"""
import argparse
import asyncio
import hashlib
import json
import time


def body(user, status, ts, secret):
    fields = {"userId": user, "authenticationStatus": status, "timestamp": str(ts)}
    canonical = "".join(f"{k}={fields[k]}" for k in sorted(fields)) + secret
    fields["sign"] = hashlib.md5(canonical.encode()).hexdigest()
    return json.dumps(fields).encode()


async def exchange(reader, writer, host, payload):
    writer.write(
        b"POST /kyc/callback HTTP/1.1\r\nHost: " + host.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(payload)).encode() + b"\r\n\r\n" + payload
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    answer = await reader.readexactly(length) if length else b""
    return status, answer


async def worker(queue, targets, index, stats, acked):
    conn = None
    turn = index
    while True:
        try:
            user, payload = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        while True:
            host = targets[turn % len(targets)]
            try:
                if conn is None:
                    h, p = host.rsplit(":", 1)
                    conn = await asyncio.wait_for(asyncio.open_connection(h, int(p)), 5)
                status, answer = await asyncio.wait_for(exchange(*conn, host, payload), 30)
                if status == 200 and answer == b"OK":
                    if acked is not None:
                        acked.write(user + "\n")
                    break
                stats["retries"] += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                stats["retries"] += 1
                if conn is not None:
                    conn[1].close()
                conn = None
                turn += 1
                await asyncio.sleep(0.05)
    if conn is not None:
        conn[1].close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--secret", default="TEST_SECRET_DO_NOT_USE")
    parser.add_argument("--prefix", default="load")
    parser.add_argument("--acked")
    args = parser.parse_args()
    targets = args.targets.split(",")
    queue = asyncio.Queue()
    for i in range(args.count):
        user = f"{args.prefix}-{i:07d}"
        queue.put_nowait((user, body(user, "2", 1_728_609_277_476 + i, args.secret)))
    stats = {"retries": 0}
    acked = open(args.acked, "w", buffering=1) if args.acked else None
    start = time.monotonic()
    await asyncio.gather(*(worker(queue, targets, i, stats, acked) for i in range(args.in_flight)))
    seconds = time.monotonic() - start
    if acked is not None:
        acked.close()
    print(json.dumps({"count": args.count, "seconds": round(seconds, 2),
                      "acks_per_s": round(args.count / seconds), "retries": stats["retries"]}))


asyncio.run(main())
