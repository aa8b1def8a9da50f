#!/usr/bin/python3
"""HTTP/2 over TLS benchmark: rws vs Debian's nginx serving the same file, same machine, run.

For a small (13 bytes) and a 64 KiB file, runs h2load (ALPN h2, TLS 1.3) against rws and nginx,
alternating, `--rounds` times each for `--duration` seconds, and prints the median req/s and
mean request time with the rws/nginx ratios. One worker each, pinned to CPU 0, h2load on CPU 1.
Both use a P-256 certificate made here by the openssl CLI, and no access log.

    bench/h2_tls.py --rws build/release/src/cmd/rws/rws [--duration 10] [--rounds 3]

Needs h2load (nghttp2-client), nginx and openssl. Only talks to 127.0.0.1.
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import tempfile

from benchlib import Nginx, free_port, make_root, on_cpus, wait_port


class Rws:
    name = "rws"

    def __init__(self, binary, root, cert, key):
        self.port = free_port()
        self.proc = subprocess.Popen(on_cpus("0", [
            binary, "--root", root, "--ip", "127.0.0.1", "--port", str(self.port),
            "--thread-count", "1", "--log-level", "warn", "--tls-cert-file", cert,
            "--tls-key-file", key]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def h2load(port, path, duration, clients, streams):
    out = subprocess.run(on_cpus("1", [
        "h2load", "-t1", f"-c{clients}", f"-m{streams}", "-D", str(duration),
        "--warm-up-time=1", f"https://127.0.0.1:{port}{path}"]),
        capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    failed = int(re.search(r"(\d+) failed", out).group(1))
    errored = int(re.search(r"(\d+) errored", out).group(1))
    if failed or errored:
        raise RuntimeError(f"h2load reported failures:\n{out}")
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out)
    mean_ms = float(mean.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[mean.group(2)]
    return rps, mean_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rws", required=True)
    parser.add_argument("--nginx", default="/usr/sbin/nginx")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--streams", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        root = make_root(workdir, {"small.txt": b"hello, world\n", "64k.bin": os.urandom(64 * 1024)})
        cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        servers = [
            Rws(args.rws, root, cert, key),
            Nginx(args.nginx, workdir, 1, f"root {root}; ssl_certificate {cert}; "
                  f"ssl_certificate_key {key}; ssl_protocols TLSv1.2 TLSv1.3; "
                  f"http2_max_requests 100000000;", cpus="0", listen_options="ssl http2"),
        ]
        try:
            print(f"h2load -t1 -c{args.clients} -m{args.streams} -D {args.duration}, "
                  f"{args.rounds} rounds, medians")
            for path in ("/small.txt", "/64k.bin"):
                results = {s.name: [] for s in servers}
                for _ in range(args.rounds):
                    for s in servers:
                        results[s.name].append(
                            h2load(s.port, path, args.duration, args.clients, args.streams))
                med = {n: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
                       for n, v in results.items()}
                print(f"{path:12} rws {med['rws'][0]:10.0f} req/s {med['rws'][1]:7.2f} ms | "
                      f"nginx {med['nginx'][0]:10.0f} req/s {med['nginx'][1]:7.2f} ms | "
                      f"rws/nginx req/s {med['rws'][0] / med['nginx'][0]:.2f}")
        finally:
            for s in servers:
                s.stop()


if __name__ == "__main__":
    main()
