#!/usr/bin/python3
"""WebSocket echo benchmark: messages per second and round-trip latency, directly against an rws
WebSocket echo server and through a proxy in front of it — rws (a gateway `proxy` route, which
tunnels upgrades) and Debian's nginx (`proxy_pass` with the Upgrade headers) — same machine,
same run.

The echo server is rws's own (`rws-ws-test-server`, route `/nodeflate`: the App framework's
WebSocket API, compression off). The load is bench/ws_echo_load (rws's frame codec as a client):
`--connections` connections, each sending a binary message and waiting for its echo before the
next, for `--duration` seconds. Setups alternate, `--rounds` runs each; medians of messages/s and
p50/p99 latency are printed with the ratios proxy/direct and rws/nginx. CPU placement: the proxy
alone on CPU 0, the echo server and the load on CPU 1 (direct runs: the server on CPU 0).

    bench/ws_echo.py --rws build/bench/src/cmd/rws/rws \\
        --server build/bench/test/integration/rws-ws-test-server \\
        --load build/bench/bench/ws_echo_load [--duration 5] [--rounds 3]

Needs nginx (scripts/setup bench). Only talks to 127.0.0.1.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile

from benchlib import Nginx, free_port, on_cpus, wait_port


class Process:
    def __init__(self, argv, port):
        self.port = port
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, self.proc)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def rws_proxy(binary, workdir, backend_port):
    port = free_port()
    conf = os.path.join(workdir, f"rws-{port}.toml")
    with open(conf, "w") as f:
        f.write(f"""
ip = "127.0.0.1"
port = {port}
thread_count = 1
idle_timeout_ms = 600000

[[upstream]]
name = "echo"
backends = ["127.0.0.1:{backend_port}"]
idle_timeout_secs = 600

[[route]]
name = "ws"
match = {{ path = "/*" }}
action = {{ type = "proxy", upstream = "echo" }}
""")
    return Process(on_cpus("0", [binary, "--config", conf, "--log-level", "warn"]), port)


def nginx_proxy(binary, workdir, backend_port):
    return Nginx(binary, workdir, 1, f"""
    location / {{
      proxy_pass http://127.0.0.1:{backend_port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 600s;
    }}""", cpus="0")


def load(binary, port, connections, duration, size):
    out = subprocess.run(on_cpus("1", [binary, "127.0.0.1", str(port), "/nodeflate",
                                       str(connections), str(duration), str(size)]),
                         capture_output=True, text=True, timeout=duration + 60)
    if out.returncode != 0:
        raise RuntimeError(f"ws_echo_load failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rws", default="build/bench/src/cmd/rws/rws")
    ap.add_argument("--server", default="build/bench/test/integration/rws-ws-test-server")
    ap.add_argument("--load", default="build/bench/bench/ws_echo_load")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--size", type=int, default=64, help="message bytes")
    args = ap.parse_args()

    results = {"direct": [], "rws": [], "nginx": []}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.rounds):
            for setup in results:
                server_port = free_port()
                server = Process(on_cpus("0" if setup == "direct" else "1",
                                         [args.server, str(server_port), "600000"]), server_port)
                proxy = None
                try:
                    if setup == "rws":
                        proxy = rws_proxy(args.rws, work, server_port)
                    elif setup == "nginx":
                        proxy = nginx_proxy(args.nginx, work, server_port)
                    port = proxy.port if proxy else server_port
                    results[setup].append(
                        load(args.load, port, args.connections, args.duration, args.size))
                finally:
                    if proxy:
                        proxy.stop()
                    server.stop()

    def median(setup, key):
        return statistics.median(r[key] for r in results[setup])

    print(f"{args.connections} connections, {args.size}-byte messages, {args.duration} s, "
          f"{args.rounds} rounds (medians)")
    print("| setup | messages/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for setup in results:
        print(f"| {setup} | {median(setup, 'messages_per_second'):.0f} | "
              f"{median(setup, 'p50_ms'):.3f} | {median(setup, 'p99_ms'):.3f} |")
    direct = median("direct", "messages_per_second")
    rws = median("rws", "messages_per_second")
    nginx = median("nginx", "messages_per_second")
    print(f"rws proxy / direct: {rws / direct:.2f}; nginx proxy / direct: {nginx / direct:.2f}; "
          f"rws / nginx: {rws / nginx:.2f}")


if __name__ == "__main__":
    main()
