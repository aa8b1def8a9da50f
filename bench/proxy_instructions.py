#!/usr/bin/env python3
"""User-space instructions and cache misses per proxied request, counted by cachegrind: a
machine-independent measure of the reverse proxy's hot path (kernel time is not included).

The proxy (one worker, under valgrind --tool=cachegrind --cache-sim=yes) forwards to nginx
answering a 13-byte body. One keep-alive client sends N1 and then, in a second run, N2 requests;
the difference of the two totals divided by N2 - N1 removes start-up and shutdown costs.

With --connections N, wrk keeps N connections busy for 3 s and then 9 s instead.

Reported per request: Ir (instructions), I1mr (first-level instruction cache misses: code that
had to be fetched again because the request's path does not fit the 32 KiB cache) and D1m
(first-level data cache misses, reads and writes). With --peers, Debian's nginx and haproxy are
measured the same way, as the same kind of proxy (keep-alive upstream, one worker).

    bench/proxy_instructions.py [--rws build/release/src/cmd/rws/rws] [--requests 1000 3000]
                                [--connections 50] [--peers]
"""

import argparse
import glob
import http.client
import os
import re
import signal
import subprocess
import tempfile

from benchlib import Nginx, free_port, haproxy_proxy_config, wait_port, wrk

EVENTS = ("Ir", "I1mr", "D1m")


def count(argv, port, load, out_prefix, stop_signal=signal.SIGINT):
    """Runs `argv` under cachegrind (following forks) and loads it through `port`: an int sends
    that many GETs over one keep-alive connection, a (connections, seconds) pair runs wrk. Stops
    it and returns the requests served and the summed event totals of all its processes."""
    proc = subprocess.Popen(["valgrind", "--tool=cachegrind", "--cache-sim=yes",
                             "--trace-children=yes", f"--cachegrind-out-file={out_prefix}.%p",
                             *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, timeout=60.0)
        if isinstance(load, int):
            requests = load
            conn = http.client.HTTPConnection("127.0.0.1", port)
            for _ in range(requests):
                conn.request("GET", "/x", headers={"User-Agent": "bench", "Accept": "*/*"})
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 200, resp.status
            conn.close()
        else:
            connections, seconds = load
            requests = wrk(f"http://127.0.0.1:{port}/x", 1, connections, seconds).requests
    finally:
        proc.send_signal(stop_signal)
        proc.wait(timeout=60)
    totals = dict.fromkeys(EVENTS, 0)
    for path in glob.glob(f"{out_prefix}.*"):
        with open(path) as f:
            text = f.read()
        names = re.search(r"^events: (.*)$", text, re.M).group(1).split()
        values = dict(zip(names, map(int, re.search(r"^summary: (.*)$", text, re.M).group(1)
                                     .split())))
        totals["Ir"] += values["Ir"]
        totals["I1mr"] += values["I1mr"]
        totals["D1m"] += values["D1mr"] + values["D1mw"]
    return requests, totals


def rws_proxy(binary, work, backend_port):
    port = free_port()
    config = os.path.join(work, "rws.config.toml")
    with open(config, "w") as f:
        f.write(f'ip = "127.0.0.1"\nport = {port}\nthread_count = 1\nlog_level = "warn"\n'
                f'[[upstream]]\nname = "b"\nbackends = ["http://127.0.0.1:{backend_port}"]\n'
                '[[route]]\nname = "all"\nmatch = { path = "/*" }\n'
                'action = { type = "proxy", upstream = "b" }\n')
    return [binary, "--config", config], port, signal.SIGINT


def nginx_proxy(binary, work, backend_port):
    port = free_port()
    config = os.path.join(work, "nginx-proxy.conf")
    with open(config, "w") as f:
        f.write(f"""
user root;  # the worker writes cachegrind's output next to the master's
worker_processes 1;
daemon off;
pid {work}/nginx-proxy.pid;
error_log stderr error;
events {{ worker_connections 1024; }}
http {{
  access_log /dev/null combined;
  proxy_temp_path {work}/proxy;
  upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
    return [binary, "-c", config, "-e", "stderr"], port, signal.SIGQUIT


def haproxy_proxy(binary, work, backend_port):
    port = free_port()
    config = os.path.join(work, "haproxy.cfg")
    with open(config, "w") as f:
        f.write(haproxy_proxy_config(1, port, backend_port))
    return [binary, "-f", config, "-db"], port, signal.SIGUSR1  # SIGUSR1: soft stop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    parser.add_argument("--nginx", default="/usr/sbin/nginx")
    parser.add_argument("--haproxy", default="/usr/sbin/haproxy")
    parser.add_argument("--requests", type=int, nargs=2, default=[1000, 3000])
    parser.add_argument("--connections", type=int, default=1,
                        help="more than 1: wrk with this many connections for 3 s and then 9 s "
                             "instead of the sequential client (under valgrind the proxy is "
                             "then saturated: it serves many ready connections per wake-up)")
    parser.add_argument("--peers", action="store_true",
                        help="also measure nginx and haproxy as the proxy")
    args = parser.parse_args()
    proxies = [("rws", rws_proxy, args.rws)]
    if args.peers:
        proxies += [("nginx", nginx_proxy, args.nginx), ("haproxy", haproxy_proxy, args.haproxy)]
    loads = args.requests if args.connections == 1 else [(args.connections, 3),
                                                         (args.connections, 9)]
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)
        backend = Nginx(args.nginx, work, 1, 'location / { return 200 "hello, world\\n"; }')
        try:
            print("| proxy | " + " | ".join(f"{e} / request" for e in EVENTS) + " |")
            print("|---|" + "---|" * len(EVENTS))
            for name, make, binary in proxies:
                runs = []
                for i, load in enumerate(loads):
                    argv, port, stop = make(binary, work, backend.port)
                    runs.append(count(argv, port, load, os.path.join(work, f"cg-{name}-{i}"),
                                      stop))
                (low, first), (high, second) = runs
                per_request = {e: (second[e] - first[e]) / (high - low) for e in EVENTS}
                print(f"| {name} | " + " | ".join(f"{per_request[e]:,.0f}" for e in EVENTS) +
                      " |", flush=True)
        finally:
            backend.stop()


if __name__ == "__main__":
    main()
