#!/usr/bin/python3
"""HTTP/3 and HTTP/2 latency and throughput with one client for both: `multiplexed_load` (built
from bench/multiplexed_load.cpp on rws's h2:: and h3::ClientSession) drives rws and Debian's
caddy over TLS with a closed loop of requests — 1 stream (latency of one request at a time) and
16 streams — on one connection, for a 13-byte and a 64 KiB file. Servers run one worker on CPU 0
(caddy with GOMAXPROCS=1), the client on CPU 1; setups alternate, `--rounds` runs each, medians
of req/s, p50 and p99 printed.

    bench/h3_latency.py --rws build/release/src/cmd/rws/rws \
        --load build/bench/bench/multiplexed_load [--seconds 5] [--rounds 3]

Needs caddy, gtlsclient (to wait for HTTP/3), openssl. Only talks to 127.0.0.1.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile

from benchlib import on_cpus
from h3 import caddy, make_certificate, rws, wait_h3

FILES = {"/small.bin": b"hello, world\n", "/64k.bin": os.urandom(64 * 1024)}
STREAMS = (1, 16)


def load(binary, protocol, port, path, cert, streams, seconds):
    out = subprocess.run(on_cpus("1", [binary, protocol, "localhost", str(port), path, cert, "1",
                                       str(streams), str(seconds)]),
                         capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"multiplexed_load failed: {out.stdout} {out.stderr[-300:]}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    ap.add_argument("--caddy", default=shutil.which("caddy") or "/usr/bin/caddy")
    ap.add_argument("--load", default="build/bench/bench/multiplexed_load")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)
        root = os.path.join(work, "www")
        os.mkdir(root)
        for path, content in FILES.items():
            with open(os.path.join(root, path.lstrip("/")), "wb") as f:
                f.write(content)
        cert, key = make_certificate(work)
        for _ in range(args.rounds):
            for name in ("rws", "caddy"):
                server = (rws(args.rws, root, cert, key) if name == "rws"
                          else caddy(args.caddy, root, cert, key, work))
                try:
                    wait_h3(server.port)
                    for path in FILES:
                        for protocol in ("h3", "h2"):
                            for streams in STREAMS:
                                results.setdefault((name, protocol, path, streams), []).append(
                                    load(args.load, protocol, server.port, path, cert, streams,
                                         args.seconds))
                finally:
                    server.stop()
    print(f"one connection, closed loop, {args.seconds} s, {args.rounds} rounds, medians")
    print("| file | streams | server | protocol | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for path in FILES:
        for streams in STREAMS:
            for name in ("rws", "caddy"):
                for protocol in ("h3", "h2"):
                    runs = results[(name, protocol, path, streams)]
                    med = {k: statistics.median(r[k] for r in runs)
                           for k in ("requests_per_s", "p50_ms", "p99_ms")}
                    print(f"| {path} | {streams} | {name} | {protocol} | "
                          f"{med['requests_per_s']:.0f} | {med['p50_ms']:.3f} | "
                          f"{med['p99_ms']:.3f} |")


if __name__ == "__main__":
    main()
