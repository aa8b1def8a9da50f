#!/usr/bin/python3
"""Static file benchmark: rws vs Debian's nginx on the same files, same machine, same run.

For each file (13 bytes, 1 MiB) and each worker count (1, 2), runs wrk against rws and nginx,
alternating, `--rounds` times each, and prints the median req/s, p50/p99 latency and peak
resident memory, with the rws/nginx ratios. Both servers log every request (rws to its stdout,
nginx to access_log), both to /dev/null, and both keep connections alive for the whole run.

    bench/static_http1.py --rws build/release/src/cmd/rws/rws [--duration 10] [--rounds 3]

Needs wrk and nginx (scripts/setup bench). Only talks to 127.0.0.1.
"""

import argparse
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile

from benchlib import Nginx, make_root, on_cpus, rss_kib, wait_port, free_port, wrk


def pinned(workers):
    """With one worker, the server runs on CPU 0 and wrk on CPU 1, so the two never compete
    for a core (the main source of run-to-run noise on a 2-core machine)."""
    return ("0", "1") if workers == 1 else (None, None)


class Rws:
    name = "rws"

    def __init__(self, binary, root, workers):
        self.port = free_port()
        self.proc = subprocess.Popen(on_cpus(pinned(workers)[0], [
            binary, "--root", root, "--ip", "127.0.0.1", "--port", str(self.port),
            "--thread-count", str(workers), "--log-level", "warn"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def pids(self):
        return [self.proc.pid]  # taskset execs the server, so this is the server itself

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def static_nginx(binary, root, workers, workdir):
    return Nginx(binary, workdir, workers, f"root {root};", cpus=pinned(workers)[0])


def idle_memory(server, connections):
    """Bytes of server RSS per idle keep-alive connection: open `connections` connections one
    by one, each completing one request, and compare RSS before and after."""
    before = rss_kib(server.pids())
    socks = []
    try:
        for _ in range(connections):
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: bench\r\n\r\n")
            data = b""
            while b"Hello, world" not in data:
                data += s.recv(4096)
            socks.append(s)
        return (rss_kib(server.pids()) - before) * 1024 / connections
    finally:
        for s in socks:
            s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=5, help="runs per server and case")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--idle", type=int, default=2000, help="idle connections for the memory test")
    args = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # for the idle-connection test
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: run scripts/setup bench")

    with tempfile.TemporaryDirectory(prefix="rws-bench-") as workdir:
        root = make_root(workdir, {"small.txt": b"Hello, world\n",  # 13 bytes
                                   "1m.bin": os.urandom(1 << 20)})

        rows = []
        for workers in (1, 2):
            for path, label in (("/small.txt", "13 B"), ("/1m.bin", "1 MiB")):
                results = {"rws": [], "nginx": []}
                for _ in range(args.rounds):
                    for kind in ("rws", "nginx"):
                        server = (Rws(args.rws, root, workers) if kind == "rws"
                                  else static_nginx(args.nginx, root, workers, workdir))
                        try:
                            url = f"http://127.0.0.1:{server.port}{path}"
                            wrk(url, 1, 10, 1, pinned(workers)[1])  # warm-up
                            rps, p50, p99, _ = wrk(url, workers, args.connections, args.duration,
                                                   pinned(workers)[1])
                            rss = rss_kib(server.pids())
                        finally:
                            server.stop()
                        results[kind].append((rps, p50, p99, rss))
                med = {k: tuple(statistics.median(r[i] for r in v) for i in range(4))
                       for k, v in results.items()}
                rows.append((workers, label, med))
                print(f"workers={workers} file={label}: rws {med['rws'][0]:.0f} req/s, "
                      f"nginx {med['nginx'][0]:.0f} req/s", file=sys.stderr)

        idle = {}
        for kind in ("rws", "nginx"):
            server = (Rws(args.rws, root, 1) if kind == "rws"
                      else static_nginx(args.nginx, root, 1, workdir))
            try:
                idle[kind] = idle_memory(server, args.idle)
            finally:
                server.stop()

    print(f"\nwrk -c{args.connections} -d{args.duration}s, wrk threads = server workers "
          f"(1 worker: server on CPU 0, wrk on CPU 1), median of {args.rounds} alternating "
          f"runs\n")
    print("| workers | file | rws req/s | nginx req/s | ratio | rws p50 / p99 ms | "
          "nginx p50 / p99 ms | rws RSS MiB | nginx RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for workers, label, med in rows:
        r, n = med["rws"], med["nginx"]
        print(f"| {workers} | {label} | {r[0]:.0f} | {n[0]:.0f} | {r[0] / n[0]:.2f} | "
              f"{r[1]:.2f} / {r[2]:.2f} | {n[1]:.2f} / {n[2]:.2f} | {r[3] / 1024:.1f} | "
              f"{n[3] / 1024:.1f} |")
    print(f"\nMemory per idle keep-alive connection ({args.idle} connections, 1 worker): "
          f"rws {idle['rws']:.0f} B, nginx {idle['nginx']:.0f} B")


if __name__ == "__main__":
    main()
