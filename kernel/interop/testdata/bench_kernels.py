"""Benchmark Jupyter kernels side by side, as a frontend sees them.

For every kernelspec named on the command line (default: gopherlab and
Debian's ipykernel, "python3") this measures, through jupyter_client:
(kernel/interop's TestBenchKernels adds "floor": testdata/floor, a
reference responder that is not a kernel; it answers execute_request with
the five messages gopherlab sends and does no work, so its row is the
floor of each client, the client's own cost plus the transport, and the
difference of a kernel's row to it is that kernel's share)

  cold start   process start (KernelManager.start_kernel) until the
               kernel_info_reply arrives; median and min over --starts runs
  round trip   execute_request of a trivial cell sent until both the
               execute_reply and the iopub status idle for it arrived;
               p50 and p99 over --runs runs after --warmup runs, with three
               clients, from the least client work to the most:
                 wire      pyzmq DEALER and SUB sockets polled together; the
                           request is built and signed by jupyter_client's
                           Session, replies are matched on their raw frames
                           and not parsed: what is left is the kernel and
                           the transport
                 session   the same sockets, sending and receiving with
                           Session.send / Session.recv (HMAC check, JSON and
                           date parsing of every message): the least a
                           jupyter_client user pays
                 blocking  BlockingKernelClient.execute, get_shell_msg and
                           get_iopub_msg (what nbclient-style tools do, with
                           channel threads and asyncio per call)
  kernel CPU   user+system CPU time of the kernel process per round trip
               (from /proc/PID/stat over the session runs); less sensitive
               to other load on the machine than the latencies
  idle RSS     resident memory of the kernel process right after start and
               after all round trips (from /proc/PID/status)

All kernels run at the same time and the round trips go in --rounds rounds,
each measuring every kernel with every client in turn, so a change in the
load of the machine hits all of them alike. The table shows the best round's
p50 and p99 (the least disturbed) and the spread over rounds. The client's
own work per message (Session.deserialize) is printed below the table.

Run it with Debian's python3 and JUPYTER_DATA_DIR pointing at a directory
holding kernels/gopherlab:

  /usr/bin/python3 bench_kernels.py --runs 1000 --rounds 3
"""

import argparse
import json
import os
import statistics
import sys
import time

import queue

import zmq
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

CLIENTS = ("wire", "session", "blocking")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User plus system CPU time of process pid, all threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


EXECUTE = {"silent": False, "store_history": True, "user_expressions": {},
           "allow_stdin": False, "stop_on_error": True}


class SessionClient:
    """Shell and iopub sockets driven with jupyter_client's Session."""

    def __init__(self, km):
        info = km.get_connection_info()
        # A Session of its own: Session remembers every signature it
        # checked, and the BlockingKernelClient's Session sees the same
        # iopub messages.
        self.session = Session(key=km.session.key, signature_scheme=km.session.signature_scheme)
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
        self.kept = []  # raw frames of one round trip, to time deserialize
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
        """Send a request and parse every message until reply and idle."""
        msg = self.session.send(self.shell, msg_type, content)
        mid = msg["header"]["msg_id"]
        reply, idle = None, False
        for sock in self.readable(msg_type, timeout):
            _, m = self.session.recv(sock, mode=zmq.NOBLOCK)
            if m is None or m["parent_header"].get("msg_id") != mid:
                continue
            if sock is self.shell:
                reply = m
            elif m["header"]["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                idle = True
            if reply is not None and idle:
                return reply

    def roundtrip_raw(self, msg_type, content, timeout=30):
        """Send a request built by Session; match replies on raw frames.

        Returns the raw reply content frame. The status idle for the request
        is the iopub message whose parent header holds its msg_id and whose
        content says "idle" (JSON from any kernel, spaces or not).
        """
        msg = self.session.msg(msg_type, content)
        self.shell.send_multipart(self.session.serialize(msg))
        mid = msg["header"]["msg_id"].encode()
        reply, idle = None, False
        self.kept = []
        for sock in self.readable(msg_type, timeout):
            frames = sock.recv_multipart()
            self.kept.append(frames)
            parent = frames[-3] if len(frames) >= 4 else b""
            if mid not in parent:
                continue
            if sock is self.shell:
                reply = frames[-1]
            elif b'"execution_state"' in frames[-1] and b'"idle"' in frames[-1]:
                idle = True
            if reply is not None and idle:
                return reply

    def readable(self, msg_type, timeout):
        """Yield each socket as a message arrives on it; raise TimeoutError
        naming msg_type after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(msg_type)
            for sock, _ in self.poller.poll(left * 1000):
                yield sock

    def drain(self):
        """Drop what arrived meanwhile (iopub of other clients' requests),
        until nothing came for 50 ms: libzmq stops reading a socket whose
        queue is full and resumes once it is emptied."""
        while self.poller.poll(50):
            for sock in (self.shell, self.iopub):
                while True:
                    try:
                        sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break

    def close(self):
        self.shell.close()
        self.iopub.close()
        self.ctx.term()


def run_session(sc, code, n):
    return timed(lambda c: sc.roundtrip("execute_request", c), lambda r: r["content"], code, n)


def run_wire(sc, code, n):
    return timed(lambda c: sc.roundtrip_raw("execute_request", c), json.loads, code, n)


def timed(roundtrip, content_of, code, n):
    """Seconds of n round trips. roundtrip sends the execute_request
    content and returns the reply; content_of, applied after the clock
    stops, gives the reply's content."""
    out = []
    content = dict(EXECUTE, code=code)
    for _ in range(n):
        t0 = time.perf_counter()
        reply = roundtrip(content)
        out.append(time.perf_counter() - t0)
        if content_of(reply)["status"] != "ok":
            raise RuntimeError("%r failed: %s" % (code, content_of(reply)))
    return out


def drain(kc):
    """Drop what the BlockingKernelClient's channels queued meanwhile."""
    for get in (kc.get_iopub_msg, kc.get_shell_msg):
        while True:
            try:
                get(timeout=0.05)
            except queue.Empty:
                break


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


def deserialize_cost(sc, code, n=200):
    """Median seconds Session spends parsing one message of a round trip,
    and the number of messages per round trip."""
    content = dict(EXECUTE, code=code)
    sc.drain()
    spent, count = [], 0
    for _ in range(n):
        sc.roundtrip_raw("execute_request", content)
        for frames in sc.kept:
            t0 = time.perf_counter()
            _, parts = sc.session.feed_identities(frames)
            sc.session.deserialize(parts)
            spent.append(time.perf_counter() - t0)
            count += 1
    return statistics.median(spent), count / n


class Kernel:
    """One running kernel with its clients and the figures measured."""

    def __init__(self, name, starts):
        self.name = name
        self.starts = []
        for _ in range(starts):
            s, km, kc = cold_start(name)
            self.starts.append(s)
            stop(km, kc)
        _, self.km, self.kc = cold_start(name)
        self.pid = kernel_pid(self.km)
        self.sc = SessionClient(self.km)
        self.rounds = {c: [] for c in CLIENTS}  # per client: stats per round
        self.cpu = []  # kernel CPU seconds per round trip, per round

    def measure(self, client, code, runs, warmup):
        if client == "blocking":
            drain(self.kc)
            run_blocking(self.kc, code, warmup)
            xs = run_blocking(self.kc, code, runs)
        else:
            fn = run_wire if client == "wire" else run_session
            self.sc.drain()
            fn(self.sc, code, warmup)
            c0 = cpu_seconds(self.pid)
            xs = fn(self.sc, code, runs)
            if client == "session":
                self.cpu.append((cpu_seconds(self.pid) - c0) / runs)
        xs.sort()
        self.rounds[client].append({"p50_ms": percentile(xs, 50) * 1e3, "p99_ms": percentile(xs, 99) * 1e3,
                                    "mean_ms": statistics.mean(xs) * 1e3})

    def close(self):
        self.sc.close()
        stop(self.km, self.kc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default="gopherlab,python3", help="comma-separated kernelspec names")
    ap.add_argument("--code", default="1+1", help="the trivial cell")
    ap.add_argument("--runs", type=int, default=1000, help="round trips per client per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--starts", type=int, default=5, help="cold starts per kernel")
    ap.add_argument("--floor", default="floor", help="kernelspec name of the reference responder, if benchmarked")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    kernels = [Kernel(k, args.starts) for k in args.kernels.split(",")]
    rows = []
    try:
        time.sleep(1.0)
        rss_start = {k.name: rss_kib(k.pid) for k in kernels}
        for _ in range(args.rounds):
            for client in CLIENTS:
                for k in kernels:
                    k.measure(client, args.code, args.runs, args.warmup)
        parse = {k.name: deserialize_cost(k.sc, args.code) for k in kernels}
        time.sleep(1.0)
        for k in kernels:
            rows.append({
                "kernel": k.name,
                "cold_start_median_ms": statistics.median(k.starts) * 1e3,
                "cold_start_min_ms": min(k.starts) * 1e3,
                "rounds": k.rounds,
                "kernel_cpu_us_per_rt": [c * 1e6 for c in k.cpu],
                "session_deserialize_us_per_msg": parse[k.name][0] * 1e6,
                "messages_per_rt": parse[k.name][1],
                "rss_idle_start_mib": rss_start[k.name] / 1024.0,
                "rss_idle_after_mib": rss_kib(k.pid) / 1024.0,
            })
    finally:
        for k in kernels:
            k.close()
    if args.json:
        print(json.dumps(rows))
        return 0
    print("trivial cell %r: %d rounds x %d round trips per client (after %d warm-up), %d cold starts" % (
        args.code, args.rounds, args.runs, args.warmup, args.starts))
    print("%-10s %-9s %9s %9s %9s %13s %9s %15s %9s %8s %8s" % (
        "kernel", "client", "start med", "start min", "rt p50", "p50 spread", "rt p99", "p99 spread",
        "CPU/rt", "RSS idle", "RSS end"))
    for r in rows:
        for client in CLIENTS:
            rs = r["rounds"][client]
            best = min(rs, key=lambda s: s["p50_ms"])
            p50s = [s["p50_ms"] for s in rs]
            p99s = [s["p99_ms"] for s in rs]
            cpu = "%6.0f us" % min(r["kernel_cpu_us_per_rt"]) if client == "session" else ""
            print("%-10s %-9s %6.0f ms %6.0f ms %6.2f ms %4.2f-%5.2f ms %6.2f ms %5.1f-%6.1f ms %9s %4.0f MiB %4.0f MiB" % (
                r["kernel"], client, r["cold_start_median_ms"], r["cold_start_min_ms"], best["p50_ms"],
                min(p50s), max(p50s), best["p99_ms"], min(p99s), max(p99s), cpu,
                r["rss_idle_start_mib"], r["rss_idle_after_mib"]))
    for r in rows:
        print("%s: %.1f messages per round trip; Session.deserialize %.0f us per message (%.2f ms per round trip, median)" % (
            r["kernel"], r["messages_per_rt"], r["session_deserialize_us_per_msg"],
            r["messages_per_rt"] * r["session_deserialize_us_per_msg"] / 1e3))
    best = {(r["kernel"], c): min(s["p50_ms"] for s in r["rounds"][c]) for r in rows for c in CLIENTS}
    if any(r["kernel"] == args.floor for r in rows):
        for r in rows:
            if r["kernel"] != args.floor:
                print("%s over %s (best p50 minus the floor's, the kernel's share): %s" % (
                    r["kernel"], args.floor, ", ".join("%s %+.2f ms" % (c, best[(r["kernel"], c)] - best[(args.floor, c)])
                                                        for c in CLIENTS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
