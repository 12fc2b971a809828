"""Benchmark Jupyter kernels side by side, as a frontend sees them.

For every kernelspec named on the command line (default: gopherlab and
Debian's ipykernel, "python3") this measures, through jupyter_client:

  cold start   process start (KernelManager.start_kernel) until the
               kernel_info_reply arrives; median and min over --starts runs
  round trip   execute_request of a trivial cell sent until both the
               execute_reply and the iopub status idle for it arrived;
               p50, p99, mean over --runs runs after --warmup runs. Two
               clients: "session" sends and receives with jupyter_client's
               Session on plain pyzmq sockets polled together (little client
               overhead); "blocking" uses BlockingKernelClient.execute,
               get_shell_msg and get_iopub_msg (what nbclient-style tools
               do, with asyncio overhead per call)
  idle RSS     resident memory of the kernel process right after start and
               after the round-trip runs (from /proc/PID/status)

and prints one table. Run it with Debian's python3 and JUPYTER_DATA_DIR
pointing at a directory holding kernels/gopherlab:

  /usr/bin/python3 bench_kernels.py --runs 1000
"""

import argparse
import json
import statistics
import sys
import time

import zmq
from jupyter_client.manager import KernelManager


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def kernel_pid(km):
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    if proc is None:
        proc = getattr(km, "kernel", None)
    return proc.pid


def wait_reply(get, msg_id, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no reply to %s" % msg_id)
        m = get(timeout=left)
        if m["parent_header"].get("msg_id") == msg_id:
            return m


def wait_idle(kc, msg_id, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no status idle for %s" % msg_id)
        m = kc.get_iopub_msg(timeout=left)
        if (m["parent_header"].get("msg_id") == msg_id and m["header"]["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            return


def cold_start(name):
    """Start a kernel and return (seconds to kernel_info_reply, km, kc)."""
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    mid = kc.kernel_info()
    wait_reply(kc.get_shell_msg, mid, 60)
    return time.perf_counter() - t0, km, kc


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def percentile(sorted_xs, p):
    if not sorted_xs:
        return float("nan")
    k = (len(sorted_xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (k - lo)


class SessionClient:
    """Shell and iopub sockets driven with jupyter_client's Session."""

    def __init__(self, km):
        info = km.get_connection_info()
        self.session = km.session
        self.ctx = zmq.Context()
        url = "%s://%s:%%d" % (info["transport"], info["ip"])
        self.shell = self.ctx.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.connect(url % info["shell_port"])
        self.iopub = self.ctx.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(url % info["iopub_port"])
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)
        # Until the subscription has reached the kernel, iopub loses messages:
        # repeat kernel_info until its idle status arrives.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.roundtrip("kernel_info_request", {}, timeout=0.5)
                return
            except TimeoutError:
                continue
        raise TimeoutError("iopub subscription never confirmed")

    def roundtrip(self, msg_type, content, timeout=30):
        msg = self.session.send(self.shell, msg_type, content)
        mid = msg["header"]["msg_id"]
        reply, idle = None, False
        deadline = time.monotonic() + timeout
        while reply is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(msg_type)
            for sock, _ in self.poller.poll(left * 1000):
                _, m = self.session.recv(sock, mode=zmq.NOBLOCK)
                if m is None or m["parent_header"].get("msg_id") != mid:
                    continue
                if sock is self.shell:
                    reply = m
                elif m["header"]["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    idle = True
        return reply

    def close(self):
        self.shell.close()
        self.iopub.close()
        self.ctx.term()


def run_session(km, code, n):
    sc = SessionClient(km)
    out = []
    try:
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        for _ in range(n):
            t0 = time.perf_counter()
            reply = sc.roundtrip("execute_request", content)
            out.append(time.perf_counter() - t0)
            if reply["content"]["status"] != "ok":
                raise RuntimeError("%r failed: %s" % (code, reply["content"]))
    finally:
        sc.close()
    return out


def run_blocking(kc, code, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        mid = kc.execute(code)
        reply = wait_reply(kc.get_shell_msg, mid, 30)
        wait_idle(kc, mid, 30)
        out.append(time.perf_counter() - t0)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("%r failed: %s" % (code, reply["content"]))
    return out


def stats(xs):
    xs = sorted(xs)
    return {"p50_ms": percentile(xs, 50) * 1e3, "p99_ms": percentile(xs, 99) * 1e3,
            "mean_ms": statistics.mean(xs) * 1e3, "runs": len(xs)}


def bench(name, code, runs, warmup, starts):
    starts_s = []
    for _ in range(starts):
        s, km, kc = cold_start(name)
        starts_s.append(s)
        stop(km, kc)
    _, km, kc = cold_start(name)
    try:
        pid = kernel_pid(km)
        time.sleep(1.0)
        rss_start = rss_kib(pid)
        run_session(km, code, warmup)
        session = stats(run_session(km, code, runs))
        run_blocking(kc, code, warmup)
        blocking = stats(run_blocking(kc, code, runs))
        time.sleep(1.0)
        rss_after = rss_kib(pid)
    finally:
        stop(km, kc)
    return {
        "kernel": name,
        "cold_start_median_ms": statistics.median(starts_s) * 1e3,
        "cold_start_min_ms": min(starts_s) * 1e3,
        "session": session,
        "blocking": blocking,
        "rss_idle_start_mib": rss_start / 1024.0,
        "rss_idle_after_mib": rss_after / 1024.0,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default="gopherlab,python3", help="comma-separated kernelspec names")
    ap.add_argument("--code", default="1+1", help="the trivial cell")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--starts", type=int, default=5, help="cold starts per kernel")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    rows = [bench(k, args.code, args.runs, args.warmup, args.starts) for k in args.kernels.split(",")]
    if args.json:
        print(json.dumps(rows))
        return 0
    print("trivial cell %r, %d runs per client (after %d warm-up), %d cold starts" % (
        args.code, args.runs, args.warmup, args.starts))
    print("%-10s %-9s %14s %14s %9s %9s %9s %10s %10s" % (
        "kernel", "client", "cold start med", "cold start min", "rt p50", "rt p99", "rt mean", "RSS idle", "RSS after"))
    for r in rows:
        for client in ("session", "blocking"):
            st = r[client]
            print("%-10s %-9s %11.1f ms %11.1f ms %6.2f ms %6.2f ms %6.2f ms %6.1f MiB %6.1f MiB" % (
                r["kernel"], client, r["cold_start_median_ms"], r["cold_start_min_ms"], st["p50_ms"],
                st["p99_ms"], st["mean_ms"], r["rss_idle_start_mib"], r["rss_idle_after_mib"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
