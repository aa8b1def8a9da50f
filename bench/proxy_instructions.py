#!/usr/bin/env python3
"""User-space instructions per proxied request, counted by callgrind: a machine-independent
regression measure for the reverse proxy's hot path (kernel time is not included).

rws (one worker, under valgrind --tool=callgrind) proxies to nginx answering a 13-byte body.
One keep-alive client sends N1 and then, in a second run, N2 requests; the difference of the two
totals divided by N2 - N1 removes start-up and shutdown costs.

    bench/proxy_instructions.py [--rws build/release/src/cmd/rws/rws] [--requests 1000 3000]
"""

import argparse
import http.client
import os
import re
import signal
import subprocess
import tempfile

from benchlib import Nginx, free_port, wait_port


def count_instructions(rws, config, port, requests, out_file):
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                             rws, "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, timeout=60.0)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(requests):
            conn.request("GET", "/x", headers={"User-Agent": "bench", "Accept": "*/*"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    with open(out_file) as f:
        return int(re.search(r"^summary: (\d+)", f.read(), re.M).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rws", default="build/release/src/cmd/rws/rws")
    parser.add_argument("--nginx", default="/usr/sbin/nginx")
    parser.add_argument("--requests", type=int, nargs=2, default=[1000, 3000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        backend = Nginx(args.nginx, work, 1, 'location / { return 200 "hello, world\\n"; }')
        try:
            port = free_port()
            config = os.path.join(work, "rws.config.toml")
            with open(config, "w") as f:
                f.write(f'ip = "127.0.0.1"\nport = {port}\nthread_count = 1\nlog_level = "warn"\n'
                        f'[[upstream]]\nname = "b"\nbackends = ["http://127.0.0.1:{backend.port}"]\n'
                        '[[route]]\nname = "all"\nmatch = { path = "/*" }\n'
                        'action = { type = "proxy", upstream = "b" }\n')
            low, high = args.requests
            totals = [count_instructions(args.rws, config, port, n, os.path.join(work, f"cg.{n}"))
                      for n in (low, high)]
        finally:
            backend.stop()
    print(f"instructions per proxied request: {(totals[1] - totals[0]) // (high - low)}")


if __name__ == "__main__":
    main()
