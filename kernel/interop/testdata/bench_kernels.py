"""Benchmark Jupyter kernels side by side, as a frontend sees them.

For every kernelspec named on the command line (default: gopherlab and
Debian's ipykernel, "python3") this measures, through jupyter_client:

  cold start   process start (KernelManager.start_kernel) until the
               kernel_info_reply arrives; median and min over --starts runs
  round trip   execute_request of a trivial cell sent until both the
               execute_reply and the iopub status idle for it arrived;
               p50, p99, mean over --runs runs after --warmup runs
  idle RSS     resident memory of the kernel process right after start and
               after the round-trip runs (from /proc/PID/status)

and prints one table. Run it with Debian's python3 and JUPYTER_DATA_DIR
pointing at a directory holding kernels/gopherlab:

  /usr/bin/python3 bench_kernels.py --runs 1000
"""

import argparse
import json
import queue
import statistics
import sys
import time

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
        rts = []
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            mid = kc.execute(code)
            reply = wait_reply(kc.get_shell_msg, mid, 30)
            wait_idle(kc, mid, 30)
            dt = time.perf_counter() - t0
            if reply["content"]["status"] != "ok":
                raise RuntimeError("%s: %r failed: %s" % (name, code, reply["content"]))
            if i >= warmup:
                rts.append(dt)
        time.sleep(1.0)
        rss_after = rss_kib(pid)
    finally:
        stop(km, kc)
    rts.sort()
    return {
        "kernel": name,
        "cold_start_median_ms": statistics.median(starts_s) * 1e3,
        "cold_start_min_ms": min(starts_s) * 1e3,
        "rt_p50_ms": percentile(rts, 50) * 1e3,
        "rt_p99_ms": percentile(rts, 99) * 1e3,
        "rt_mean_ms": statistics.mean(rts) * 1e3,
        "runs": len(rts),
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
    hdr = ("kernel", "cold start med", "cold start min", "rt p50", "rt p99", "rt mean", "RSS idle", "RSS after")
    print("trivial cell %r, %d runs (after %d warm-up), %d cold starts" % (args.code, args.runs, args.warmup, args.starts))
    print("%-12s %15s %15s %9s %9s %9s %10s %10s" % hdr)
    for r in rows:
        print("%-12s %12.1f ms %12.1f ms %6.2f ms %6.2f ms %6.2f ms %6.1f MiB %6.1f MiB" % (
            r["kernel"], r["cold_start_median_ms"], r["cold_start_min_ms"], r["rt_p50_ms"],
            r["rt_p99_ms"], r["rt_mean_ms"], r["rss_idle_start_mib"], r["rss_idle_after_mib"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
