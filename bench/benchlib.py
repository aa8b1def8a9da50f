"""Pieces shared by the HTTP benchmarks: ports, process memory, CPU pinning, wrk runs and the
Debian nginx used as a peer. Only talks to 127.0.0.1."""

import collections
import os
import re
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
                total += int(m.group(1)) if m else 0
        except FileNotFoundError:
            pass
    return total


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]
    except FileNotFoundError:
        return []


def on_cpus(cpus, argv):
    """`argv` run on the given CPU list ("0", "1", "0,1"); None leaves placement to the kernel."""
    return ["taskset", "-c", cpus, *argv] if cpus else list(argv)


def make_root(workdir, files):
    """A world-readable document root under `workdir` (nginx workers run as www-data) holding
    `files`: name → bytes. Returns its path."""
    os.chmod(workdir, 0o755)
    root = os.path.join(workdir, "www")
    os.makedirs(root)
    for name, content in files.items():
        path = os.path.join(root, name)
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, 0o644)
    return root


WrkResult = collections.namedtuple("WrkResult", "rps p50 p99 requests")


def cpu_seconds(pids):
    """User + system CPU time consumed so far by the processes (and their reaped children)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
                total += sum(int(x) for x in fields[11:13])  # utime, stime
        except FileNotFoundError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url, threads, connections, duration, cpus=None):
    """Runs wrk and returns a WrkResult (req/s, p50 ms, p99 ms, requests completed); any socket
    error or non-2xx/3xx response makes the run fail."""
    out = subprocess.run(on_cpus(cpus, ["wrk", "-t", str(threads), "-c", str(connections),
                                        "-d", f"{duration}s", "--latency", url]),
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or non2xx:
        raise RuntimeError(f"wrk reported errors:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return WrkResult(rps, latency(50), latency(99), requests)


class Nginx:
    """Debian's nginx, not daemonized, with its temp paths and pid file under `workdir`.
    `server_block` is the body of one `server { }` (the listen line is added)."""

    name = "nginx"

    def __init__(self, binary, workdir, workers, server_block, cpus=None, http_extra="",
                 listen_options=""):
        self.port = free_port()
        conf = os.path.join(workdir, f"nginx-{self.port}.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes {workers};
daemon off;
pid {workdir}/nginx-{self.port}.pid;
error_log stderr error;
events {{ worker_connections 10240; }}
http {{
  include /etc/nginx/mime.types;
  access_log /dev/null combined;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi;
  uwsgi_temp_path {workdir}/uwsgi;
  scgi_temp_path {workdir}/scgi;
  {http_extra}
  server {{
    listen 127.0.0.1:{self.port} reuseport {listen_options};
    {server_block}
  }}
}}
""")
        self.proc = subprocess.Popen(on_cpus(cpus, [binary, "-c", conf, "-e", "stderr"]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def pids(self):
        return [self.proc.pid] + children(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(30)



def haproxy_proxy_config(threads, port, backend_port):
    """haproxy 2.6 as the benchmarks' reverse proxy: HTTP mode, `threads` threads, listening on
    127.0.0.1:`port`, keep-alive connections to the backend reused across clients."""
    return f"""
global
  nbthread {threads}
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:{port}
  default_backend be
backend be
  server b1 127.0.0.1:{backend_port}
"""


class CpuCap:
    """A cgroup holding processes to `share` of one CPU (CFS quota over a 10 ms period; cgroup v2
    `cpu.max` or v1 `cpu.cfs_quota_us`). A proxy held below what its peers can feed is the
    bottleneck at every instant, so the req/s it reaches measures its cost per request rather
    than how its wake-ups line up with theirs. Needs root; remove() once its processes exit."""

    PERIOD_US = 10_000

    def __init__(self, share):
        quota = int(share * self.PERIOD_US)
        name = f"rws-bench-{os.getpid()}"
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):  # unified hierarchy (v2)
            with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as f:
                f.write("+cpu")
            self.path = os.path.join("/sys/fs/cgroup", name)
            os.makedirs(self.path, exist_ok=True)
            with open(os.path.join(self.path, "cpu.max"), "w") as f:
                f.write(f"{quota} {self.PERIOD_US}")
        else:
            self.path = os.path.join("/sys/fs/cgroup/cpu", name)
            os.makedirs(self.path, exist_ok=True)
            with open(os.path.join(self.path, "cpu.cfs_period_us"), "w") as f:
                f.write(str(self.PERIOD_US))
            with open(os.path.join(self.path, "cpu.cfs_quota_us"), "w") as f:
                f.write(str(quota))

    def add(self, pids):
        for pid in pids:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(pid))

    def remove(self):
        os.rmdir(self.path)
