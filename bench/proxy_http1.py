#!/usr/bin/python3
"""Reverse-proxy benchmark: rws vs Debian's nginx vs Debian's haproxy in front of the same
backend, same machine, same run.

The backend is one nginx worker serving a 13-byte and a 16 KiB file. Each proxy keeps a pool of
keep-alive connections to it (rws: its upstream pool; nginx: `keepalive 64` with HTTP/1.1
upstreams; haproxy: `http-reuse always`). wrk drives the proxy with fixed connections and
duration; proxies alternate, `--rounds` runs each, and the medians of req/s, p50/p99 latency,
the proxy's CPU time per request (user + system, all its processes) and its RSS after the load
are printed with the rws/nginx and rws/haproxy ratios. On two cores the backend and wrk can be
the bottleneck, which makes req/s similar across proxies; CPU per request then shows the
difference in the proxies' own cost.

CPU placement on a 2-core machine: with one proxy worker, the proxy runs alone on CPU 0 and the
backend and wrk share CPU 1 (the proxy is the measured bottleneck); with two workers nothing is
pinned.

With --cpu-cap SHARE each proxy runs in a cgroup holding it to SHARE of one CPU (root only).
Uncapped, the backend and wrk are usually the bottleneck on two cores and req/s depends on how
the proxy's writes line up with their wake-ups; capped, the proxy is the bottleneck throughout
and req/s measures its cost per request.

    bench/proxy_http1.py --rws build/release/src/cmd/rws/rws [--duration 8] [--rounds 5]
                         [--cpu-cap 0.5]

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

from benchlib import (CpuCap, Nginx, children, cpu_seconds, haproxy_proxy_config, make_root,
                      free_port, on_cpus, rss_kib, wait_port, wrk)


def placement(workers):
    """(proxy CPUs, backend and wrk CPUs)"""
    return ("0", "1") if workers == 1 else (None, None)


class RwsProxy:
    name = "rws"

    def __init__(self, binary, workdir, workers, backend_port):
        self.port = free_port()
        conf = os.path.join(workdir, f"rws-{self.port}.toml")
        with open(conf, "w") as f:
            f.write(f"""
ip = "127.0.0.1"
port = {self.port}
thread_count = {workers}

[[upstream]]
name = "backend"
backends = ["127.0.0.1:{backend_port}"]
max_idle_per_backend = 64
max_requests_per_connection = 100000000

[[route]]
name = "all"
match = {{ path = "/*" }}
action = {{ type = "proxy", upstream = "backend" }}
""")
        self.proc = subprocess.Popen(
            on_cpus(placement(workers)[0], [binary, "--config", conf, "--log-level", "warn"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def nginx_proxy(binary, workdir, workers, backend_port):
    return Nginx(binary, workdir, workers, """
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }""", cpus=placement(workers)[0], http_extra=f"""
  upstream backend {{
    server 127.0.0.1:{backend_port};
    keepalive 64;
    keepalive_requests 100000000;
  }}""")


class Haproxy:
    name = "haproxy"

    def __init__(self, binary, workdir, workers, backend_port):
        self.port = free_port()
        conf = os.path.join(workdir, f"haproxy-{self.port}.cfg")
        with open(conf, "w") as f:
            f.write(haproxy_proxy_config(workers, self.port, backend_port))
        self.proc = subprocess.Popen(on_cpus(placement(workers)[0], [binary, "-f", conf, "-db"]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    ap.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=5, help="runs per proxy and case")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--cpu-cap", type=float, metavar="SHARE",
                    help="hold each proxy to SHARE of one CPU (a CFS quota; needs root), so that "
                         "the proxy is the bottleneck and req/s measures its cost per request")
    args = ap.parse_args()
    for tool in ("wrk", args.nginx, args.haproxy):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: run scripts/setup bench")

    makers = {
        "rws": lambda wd, w, bp: RwsProxy(args.rws, wd, w, bp),
        "nginx": lambda wd, w, bp: nginx_proxy(args.nginx, wd, w, bp),
        "haproxy": lambda wd, w, bp: Haproxy(args.haproxy, wd, w, bp),
    }
    with tempfile.TemporaryDirectory(prefix="rws-bench-") as workdir:
        root = make_root(workdir, {"small.txt": b"Hello, world\n",  # 13 bytes
                                   "16k.bin": os.urandom(16 << 10)})

        rows = []
        cap = CpuCap(args.cpu_cap) if args.cpu_cap else None
        for workers in (1, 2):
            backend = Nginx(args.nginx, workdir, 1, f"root {root};", cpus=placement(workers)[1])
            try:
                for path, label in (("/small.txt", "13 B"), ("/16k.bin", "16 KiB")):
                    results = {k: [] for k in makers}
                    for _ in range(args.rounds):
                        for kind, make in makers.items():
                            proxy = make(workdir, workers, backend.port)
                            try:
                                if cap:
                                    cap.add(proxy.pids() + [c for p in proxy.pids()
                                                            for c in children(p)])
                                url = f"http://127.0.0.1:{proxy.port}{path}"
                                wrk(url, 1, 10, 1, placement(workers)[1])  # warm-up
                                cpu_before = cpu_seconds(proxy.pids())
                                run = wrk(url, workers, args.connections, args.duration,
                                          placement(workers)[1])
                                cpu_us = ((cpu_seconds(proxy.pids()) - cpu_before) * 1e6 /
                                          run.requests)
                                rss = rss_kib(proxy.pids())
                            finally:
                                proxy.stop()
                            results[kind].append((run.rps, run.p50, run.p99, rss, cpu_us))
                    med = {k: tuple(statistics.median(r[i] for r in v) for i in range(5))
                           for k, v in results.items()}
                    rows.append((workers, label, med))
                    print(f"workers={workers} body={label}: " + ", ".join(
                        f"{k} {m[0]:.0f} req/s" for k, m in med.items()), file=sys.stderr)
            finally:
                backend.stop()
        if cap:
            cap.remove()

    print(f"\nwrk -c{args.connections} -d{args.duration}s, wrk threads = proxy workers, "
          f"median of {args.rounds} alternating runs" +
          (f", each proxy held to {args.cpu_cap:g} CPU" if cap else "") + "\n")
    print("| workers | body | rws req/s | nginx req/s | haproxy req/s | rws/nginx | "
          "rws/haproxy | p50 / p99 ms rws | nginx | haproxy | proxy CPU µs/req rws / nginx / "
          "haproxy | RSS MiB rws / nginx / haproxy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for workers, label, med in rows:
        r, n, h = med["rws"], med["nginx"], med["haproxy"]
        print(f"| {workers} | {label} | {r[0]:.0f} | {n[0]:.0f} | {h[0]:.0f} | "
              f"{r[0] / n[0]:.2f} | {r[0] / h[0]:.2f} | {r[1]:.2f} / {r[2]:.2f} | "
              f"{n[1]:.2f} / {n[2]:.2f} | {h[1]:.2f} / {h[2]:.2f} | "
              f"{r[4]:.1f} / {n[4]:.1f} / {h[4]:.1f} | "
              f"{r[3] / 1024:.1f} / {n[3] / 1024:.1f} / {h[3] / 1024:.1f} |")


if __name__ == "__main__":
    main()
