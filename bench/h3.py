#!/usr/bin/python3
"""HTTP/3 benchmark: requests/s for the same file over HTTP/3 and over HTTP/2, from rws and from
Debian's caddy, same machine, same run.

HTTP/3 load: `gtlsclient` (Debian package ngtcp2-client, upstream's example client; Debian's
curl and h2load have no HTTP/3) opening `--requests` streams for the file on one QUIC connection
(at most the server's stream limit at once), timed from start to exit — so the figure includes
one handshake. HTTP/2 load: h2load `-c1 -m100 -n N`, one connection, 100 streams at once, the
same file. Servers run one worker on CPU 0 (caddy with GOMAXPROCS=1), clients on CPU 1; setups
alternate, `--rounds` runs each, medians printed with the ratios.

    bench/h3.py --rws build/release/src/cmd/rws/rws [--requests 5000] [--rounds 3]

Needs gtlsclient, h2load, caddy, openssl (scripts/setup test bench). Only talks to 127.0.0.1.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

from benchlib import free_port, on_cpus, wait_port


def make_certificate(work):
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    return cert, key


class Server:
    def __init__(self, argv, port, env=None):
        self.port = port
        self.proc = subprocess.Popen(on_cpus("0", argv), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env)
        wait_port(port, self.proc)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def rws(binary, root, cert, key):
    port = free_port()
    return Server([binary, "--ip", "127.0.0.1", "--port", str(port), "--thread-count", "1",
                   "--root", root, "--tls-cert-file", cert, "--tls-key-file", key,
                   "--log-level", "warn", "--access-log-file", "/dev/null"], port)


def caddy(binary, root, cert, key, work):
    port = free_port()
    caddyfile = os.path.join(work, f"Caddyfile-{port}")
    with open(caddyfile, "w") as f:
        f.write(f"""{{
	admin off
	auto_https disable_redirects
	storage file_system {work}/caddy-data
	servers {{
		protocols h1 h2 h3
	}}
}}
https://localhost:{port} {{
	tls {cert} {key}
	root * {root}
	file_server
}}
""")
    env = dict(os.environ, GOMAXPROCS="1", HOME=work, XDG_DATA_HOME=work, XDG_CONFIG_HOME=work)
    return Server([binary, "run", "--config", caddyfile, "--adapter", "caddyfile"], port, env)


def wait_h3(port):
    """Until the server answers over HTTP/3 (its QUIC listener may start after the TCP one)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            out = subprocess.run(["gtlsclient", "-q", "--exit-on-all-streams-close", "127.0.0.1",
                                  str(port), f"https://localhost:{port}/small.bin"],
                                 capture_output=True, timeout=3)
            if out.returncode == 0:
                return
        except subprocess.TimeoutExpired:
            pass
    raise RuntimeError(f"no HTTP/3 answer on port {port}")


def h3_rate(port, path, requests):
    start = time.monotonic()
    out = subprocess.run(on_cpus("1", ["gtlsclient", "-q", "--exit-on-all-streams-close", "-n",
                                       str(requests), "127.0.0.1", str(port),
                                       f"https://localhost:{port}{path}"]),
                         capture_output=True, timeout=300)
    elapsed = time.monotonic() - start
    if out.returncode != 0:
        raise RuntimeError(f"gtlsclient failed: {out.stderr.decode()[-300:]}")
    return requests / elapsed


def h2_rate(port, path, requests):
    out = subprocess.run(on_cpus("1", ["h2load", "-n", str(requests), "-c", "1", "-m", "100",
                                       f"https://localhost:{port}{path}"]),
                         capture_output=True, text=True, timeout=300).stdout
    if f"{requests} succeeded" not in out:
        raise RuntimeError(f"h2load failed:\n{out[-500:]}")
    return float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    ap.add_argument("--caddy", default=shutil.which("caddy") or "/usr/bin/caddy")
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)
        root = os.path.join(work, "www")
        os.mkdir(root)
        with open(os.path.join(root, "small.bin"), "wb") as f:
            f.write(b"hello, world\n")
        with open(os.path.join(root, "64k.bin"), "wb") as f:
            f.write(os.urandom(64 * 1024))
        cert, key = make_certificate(work)
        results = {}
        for _ in range(args.rounds):
            for name in ("rws", "caddy"):
                server = (rws(args.rws, root, cert, key) if name == "rws"
                          else caddy(args.caddy, root, cert, key, work))
                try:
                    wait_h3(server.port)
                    for path in ("/small.bin", "/64k.bin"):
                        results.setdefault((name, "h3", path), []).append(
                            h3_rate(server.port, path, args.requests))
                        results.setdefault((name, "h2", path), []).append(
                            h2_rate(server.port, path, args.requests))
                finally:
                    server.stop()
    print(f"{args.requests} requests on one connection, {args.rounds} rounds, medians (req/s)")
    print("| file | rws h3 | rws h2 | caddy h3 | caddy h2 | rws h3/h2 | rws/caddy h3 |")
    print("|---|---|---|---|---|---|---|")
    for path in ("/small.bin", "/64k.bin"):
        m = {k: statistics.median(v) for k, v in results.items() if k[2] == path}
        print(f"| {path} | {m[('rws', 'h3', path)]:.0f} | {m[('rws', 'h2', path)]:.0f} | "
              f"{m[('caddy', 'h3', path)]:.0f} | {m[('caddy', 'h2', path)]:.0f} | "
              f"{m[('rws', 'h3', path)] / m[('rws', 'h2', path)]:.2f} | "
              f"{m[('rws', 'h3', path)] / m[('caddy', 'h3', path)]:.2f} |")


if __name__ == "__main__":
    main()
