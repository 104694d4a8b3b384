#!/usr/bin/env python3
"""stats_delta.py BEFORE.json AFTER.json DEVICE: what moved between two `hvctl stats --json`
snapshots for one device (by name, e.g. vdb) and for the vCPUs, one "key value" per line:
kicks, irqs, bytes_read, bytes_written, requests, merged_requests, merged_ops, exits."""
import json
import sys


def find(obj, key):
    """The first value of key anywhere in obj (the reply may wrap the stats)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find(v, key)
            if r is not None:
                return r
    return None


def device(stats, name):
    for d in find(stats, "devices") or []:
        if d.get("name") == name:
            return d
    sys.exit(f"stats_delta: no device {name} in the snapshot")


def main():
    before, after = (json.load(open(p)) for p in sys.argv[1:3])
    name = sys.argv[3]
    d0, d1 = device(before, name), device(after, name)
    for key in ("kicks", "irqs"):
        print(key, d1.get(key, 0) - d0.get(key, 0))
    for key in ("bytes_read", "bytes_written", "requests", "merged_requests", "merged_ops"):
        print(key, (d1.get("blk") or {}).get(key, 0) - (d0.get("blk") or {}).get(key, 0))
    e0, e1 = find(before, "exits_total") or {}, find(after, "exits_total") or {}
    print("exits", sum(e1.values()) - sum(e0.values()))


main()
