#!/usr/bin/python3
"""L4 TCP proxy benchmark: rws `[[tcp_proxy]]` vs Debian's haproxy in `mode tcp` in front of the
same backend, same machine, same run.

The backend is one nginx worker serving a 13-byte and a 1 MiB file over keep-alive HTTP/1.1.
wrk's connections are long-lived, so each is one tunnel through the proxy and the run measures
the proxy's byte shuffling (plus one backend connect per wrk connection). Proxies alternate,
`--rounds` runs each, and the medians of req/s, p50/p99 latency, the proxy's CPU time per
request (user + system) and its RSS after the load are printed with the rws/haproxy ratio; the
backend reached directly (no proxy) is measured too, as the ceiling.

CPU placement on a 2-core machine: the proxy alone on CPU 0 (rws: its L4 thread; haproxy:
nbthread 1), the backend and wrk share CPU 1.

    bench/tcp_proxy.py --rws build/release/src/cmd/rws/rws [--duration 5] [--rounds 3]

Needs wrk, nginx and haproxy (scripts/setup bench). Only talks to 127.0.0.1.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

from benchlib import Nginx, cpu_seconds, free_port, make_root, on_cpus, rss_kib, wait_port, wrk

PROXY_CPUS, LOAD_CPUS = "0", "1"


class RwsTcpProxy:
    name = "rws"

    def __init__(self, binary, workdir, backend_port):
        self.port = free_port()
        conf = os.path.join(workdir, f"rws-{self.port}.toml")
        with open(conf, "w") as f:
            f.write(f"""
ip = "127.0.0.1"
port = {free_port()}
thread_count = 1

[[tcp_proxy]]
name = "backend"
listen = "127.0.0.1:{self.port}"
backends = ["127.0.0.1:{backend_port}"]
""")
        self.proc = subprocess.Popen(
            on_cpus(PROXY_CPUS, [binary, "--config", conf, "--log-level", "warn"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


class HaproxyTcp:
    name = "haproxy"

    def __init__(self, binary, workdir, backend_port):
        self.port = free_port()
        conf = os.path.join(workdir, f"haproxy-{self.port}.cfg")
        with open(conf, "w") as f:
            f.write(f"""
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind 127.0.0.1:{self.port}
  default_backend be
backend be
  server b1 127.0.0.1:{backend_port}
""")
        self.proc = subprocess.Popen(on_cpus(PROXY_CPUS, [binary, "-f", conf, "-db"]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


class Direct:
    """No proxy: wrk talks to the backend itself."""
    name = "direct"

    def __init__(self, backend_port):
        self.port = backend_port

    def pids(self):
        return []

    def stop(self):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (1..60)")
    ap.add_argument("--rounds", type=int, default=3, help="runs per proxy and case (1..10)")
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    if not 1 <= args.duration <= 60 or not 1 <= args.rounds <= 10:
        sys.exit("--duration must be 1..60 and --rounds 1..10")
    for tool in ("wrk", "taskset", args.nginx, args.haproxy, args.rws):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: run scripts/setup bench (and build rws)")

    makers = {
        "direct": lambda wd, bp: Direct(bp),
        "rws": lambda wd, bp: RwsTcpProxy(args.rws, wd, bp),
        "haproxy": lambda wd, bp: HaproxyTcp(args.haproxy, wd, bp),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="rws-bench-") as workdir:
        root = make_root(workdir, {"small.txt": b"Hello, world\n",  # 13 bytes
                                   "1m.bin": os.urandom(1 << 20)})
        backend = Nginx(args.nginx, workdir, 1, f"root {root};", cpus=LOAD_CPUS)
        try:
            for path, label in (("/small.txt", "13 B"), ("/1m.bin", "1 MiB")):
                results = {k: [] for k in makers}
                for _ in range(args.rounds):
                    for kind, make in makers.items():
                        proxy = make(workdir, backend.port)
                        try:
                            url = f"http://127.0.0.1:{proxy.port}{path}"
                            wrk(url, 1, 10, 1, LOAD_CPUS)  # warm-up
                            cpu_before = cpu_seconds(proxy.pids())
                            run = wrk(url, 1, args.connections, args.duration, LOAD_CPUS)
                            cpu_us = ((cpu_seconds(proxy.pids()) - cpu_before) * 1e6 /
                                      run.requests)
                            rss = rss_kib(proxy.pids())
                        finally:
                            proxy.stop()
                        results[kind].append((run.rps, run.p50, run.p99, rss, cpu_us))
                med = {k: tuple(statistics.median(r[i] for r in v) for i in range(5))
                       for k, v in results.items()}
                rows.append((label, med))
                print(f"body={label}: " + ", ".join(f"{k} {m[0]:.0f} req/s"
                                                    for k, m in med.items()), file=sys.stderr)
        finally:
            backend.stop()

    print(f"\nwrk -t1 -c{args.connections} -d{args.duration}s, median of {args.rounds} "
          "alternating runs; proxy on CPU 0, backend + wrk on CPU 1\n")
    print("| body | direct req/s | rws req/s | haproxy req/s | rws/haproxy | "
          "p50 / p99 ms direct | rws | haproxy | proxy CPU µs/req rws / haproxy | "
          "RSS MiB rws / haproxy |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, med in rows:
        d, r, h = med["direct"], med["rws"], med["haproxy"]
        print(f"| {label} | {d[0]:.0f} | {r[0]:.0f} | {h[0]:.0f} | {r[0] / h[0]:.2f} | "
              f"{d[1]:.2f} / {d[2]:.2f} | {r[1]:.2f} / {r[2]:.2f} | {h[1]:.2f} / {h[2]:.2f} | "
              f"{r[4]:.1f} / {h[4]:.1f} | {r[3] / 1024:.1f} / {h[3] / 1024:.1f} |")


if __name__ == "__main__":
    main()
