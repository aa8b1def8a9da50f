#!/usr/bin/python3
"""System calls per proxied request: rws vs Debian's nginx vs Debian's haproxy, counted by the
kernel's syscall tracepoints (perf stat), so the figures do not depend on machine noise.

Same set-up as bench/proxy_http1.py with one proxy worker: an nginx backend serving a 13-byte
file, each proxy keeping keep-alive connections to it, wrk -c50 driving the proxy. perf counts
the proxy's entries into the calls a proxied request uses, and the recvfrom calls that failed
with EAGAIN (a read tried before data was there); the table gives them per request.

    bench/proxy_syscalls.py [--rws build/release/src/cmd/rws/rws] [--duration 4]

Needs root (tracepoints), perf, wrk, nginx and haproxy. Only talks to 127.0.0.1.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import Nginx, children, make_root, wrk
from proxy_http1 import Haproxy, RwsProxy, nginx_proxy, placement

CALLS = ["recvfrom", "sendmsg", "sendto", "writev", "write", "epoll_wait", "epoll_ctl",
         "getsockopt", "setsockopt"]


def count(proxy, url, duration, workdir):
    pids = set(proxy.pids())
    for pid in list(pids):
        pids.update(children(pid))
    out = os.path.join(workdir, "perf.txt")
    events = ["-e", "syscalls:sys_exit_recvfrom", "--filter", "ret == -11"]
    for call in CALLS:
        events += ["-e", f"syscalls:sys_enter_{call}"]
    perf = subprocess.Popen(["perf", "stat", "-x,", "-o", out, *events,
                             "-p", ",".join(map(str, sorted(pids)))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # perf attaches
    run = wrk(url, 1, 50, duration, placement(1)[1])
    perf.send_signal(signal.SIGINT)
    perf.wait(30)
    counts = {}
    with open(out) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) > 2 and fields[0].isdigit():
                name = fields[2].split(":")[-1]
                key = "recvfrom EAGAIN" if name == "sys_exit_recvfrom" else name[len("sys_enter_"):]
                counts[key] = int(fields[0]) / run.requests
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    ap.add_argument("--duration", type=int, default=4, help="seconds of load per proxy")
    args = ap.parse_args()
    for tool in ("perf", "wrk", args.nginx, args.haproxy):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: run scripts/setup bench")

    makers = {
        "rws": lambda wd, bp: RwsProxy(args.rws, wd, 1, bp),
        "nginx": lambda wd, bp: nginx_proxy(args.nginx, wd, 1, bp),
        "haproxy": lambda wd, bp: Haproxy(args.haproxy, wd, 1, bp),
    }
    results = {}
    with tempfile.TemporaryDirectory(prefix="rws-bench-") as workdir:
        root = make_root(workdir, {"small.txt": b"Hello, world\n"})
        backend = Nginx(args.nginx, workdir, 1, f"root {root};", cpus=placement(1)[1])
        try:
            for kind, make in makers.items():
                proxy = make(workdir, backend.port)
                try:
                    url = f"http://127.0.0.1:{proxy.port}/small.txt"
                    wrk(url, 1, 10, 1, placement(1)[1])  # warm-up: pools filled
                    results[kind] = count(proxy, url, args.duration, workdir)
                finally:
                    proxy.stop()
        finally:
            backend.stop()

    columns = ["recvfrom EAGAIN"] + CALLS
    print("\nsystem calls per proxied 13-byte request, one proxy worker, wrk -c50\n")
    print("| proxy | " + " | ".join(columns) + " | total |")
    print("|---" * (len(columns) + 2) + "|")
    for kind, counts in results.items():
        total = sum(counts.get(c, 0.0) for c in CALLS)
        print(f"| {kind} | " + " | ".join(f"{counts.get(c, 0.0):.2f}" for c in columns) +
              f" | {total:.2f} |")


if __name__ == "__main__":
    main()
