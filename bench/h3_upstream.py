#!/usr/bin/python3
"""Upstream protocol benchmark: rws as a reverse proxy in front of one TLS backend, reaching it
over HTTP/1.1 + TLS (`https://`, keep-alive pool), HTTP/2 + TLS (`h2s://`, one multiplexed
connection) and HTTP/3 (`h3://`, one QUIC connection); nginx in front of the same backend over
HTTP/1.1 + TLS (`proxy_pass https://` with `keepalive`) as the peer — nginx has no HTTP/2 or
HTTP/3 upstreams.

The backend is an rws serving a static root with TLS on one port (TCP and UDP), so every variant
reaches the same server. The proxy runs one worker on CPU 0; the backend and wrk share CPU 1.
wrk drives the proxy over plain HTTP/1.1 with fixed connections and duration; setups alternate,
`--rounds` runs each, medians printed with the ratios against rws's own https:// variant and
against nginx.

    bench/h3_upstream.py --rws build/release/src/cmd/rws/rws [--duration 5] [--rounds 3]

Needs wrk, nginx, openssl (scripts/setup test bench). Only talks to 127.0.0.1.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile

from benchlib import Nginx, free_port, make_root, on_cpus, wait_port, wrk
from h3 import make_certificate, wait_h3

FILES = {"small.bin": b"hello, world\n", "64k.bin": os.urandom(64 * 1024)}


class Rws:
    def __init__(self, argv, port, cpus):
        self.port = port
        self.proc = subprocess.Popen(on_cpus(cpus, argv), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(port, self.proc)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def backend(binary, root, cert, key):
    port = free_port()
    server = Rws([binary, "--ip", "127.0.0.1", "--port", str(port), "--thread-count", "1",
                  "--root", root, "--tls-cert-file", cert, "--tls-key-file", key,
                  "--log-level", "warn", "--access-log-file", "/dev/null"], port, "1")
    wait_h3(port)
    return server


def rws_proxy(binary, work, url, cert):
    port = free_port()
    config = os.path.join(work, f"proxy-{port}.toml")
    with open(config, "w") as f:
        f.write(f"""
access_log_file = "/dev/null"
[[upstream]]
name = "backend"
backends = ["{url}"]
[upstream.tls]
ca_file = "{cert}"
[[route]]
name = "all"
action = {{ type = "proxy", upstream = "backend" }}
""")
    return Rws([binary, "--ip", "127.0.0.1", "--port", str(port), "--thread-count", "1",
                "--config", config, "--log-level", "warn"], port, "0")


def nginx_proxy(binary, work, backend_port, cert):
    return Nginx(binary, work, 1, f"""
    location / {{
      proxy_pass https://tls_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate {cert};
      proxy_ssl_session_reuse on;
    }}""", cpus="0", http_extra=f"""
  upstream tls_backend {{
    server 127.0.0.1:{backend_port};
    keepalive 64;
    keepalive_requests 100000000;
  }}""")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    setups = ("rws https://", "rws h2s://", "rws h3://", "nginx https://")
    results = {}
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)
        root = make_root(work, FILES)
        cert, key = make_certificate(work)
        origin = backend(args.rws, root, cert, key)
        try:
            for _ in range(args.rounds):
                for setup in setups:
                    scheme = setup.split()[1]
                    if setup.startswith("nginx"):
                        proxy = nginx_proxy(args.nginx, work, origin.port, cert)
                    else:
                        proxy = rws_proxy(args.rws, work, f"{scheme}localhost:{origin.port}", cert)
                    try:
                        for name in FILES:
                            url = f"http://127.0.0.1:{proxy.port}/{name}"
                            wrk(url, 1, 4, 1, cpus="1")  # warm: pools, sessions, handshakes
                            results.setdefault((setup, name), []).append(
                                wrk(url, 1, args.connections, args.duration, cpus="1"))
                    finally:
                        proxy.stop()
        finally:
            origin.stop()
    print(f"wrk -c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians")
    print("| file | proxy → backend | req/s | p50 ms | p99 ms | vs rws https:// | vs nginx |")
    print("|---|---|---|---|---|---|---|")
    for name in FILES:
        rate = {s: statistics.median(r.rps for r in results[(s, name)]) for s in setups}
        for setup in setups:
            runs = results[(setup, name)]
            print(f"| {name} | {setup} | {rate[setup]:.0f} | "
                  f"{statistics.median(r.p50 for r in runs):.2f} | "
                  f"{statistics.median(r.p99 for r in runs):.2f} | "
                  f"{rate[setup] / rate['rws https://']:.2f} | "
                  f"{rate[setup] / rate['nginx https://']:.2f} |")


if __name__ == "__main__":
    main()
