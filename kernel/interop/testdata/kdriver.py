"""Drive a Jupyter kernel with jupyter_client, one JSON command per line.

The Go tests in kernel/interop start this script with Debian's python3, write
commands to its stdin and read one JSON answer per command from its stdout.
Everything goes through jupyter_client's KernelManager and
BlockingKernelClient, exactly as notebook frontends use them.

Usage: python3 kdriver.py KERNEL_NAME

Commands (JSON objects with an "op"):
  {"op": "request", "channel": "shell"|"control", "msg_type": ..., "content": {...}}
      send a request, wait for its reply and for the iopub status idle that
      follows it; answer {"reply": MSG, "iopub": [MSG...], "msg_id": ID}
  {"op": "execute", "code": ..., "silent": false, "store_history": true,
   "allow_stdin": false, "stop_on_error": true, "interrupt_after": SECONDS,
   "stdin": ["line", ...], "timeout": SECONDS}
      like request for execute_request; with interrupt_after the kernel is
      interrupted (KernelManager.interrupt_kernel) that long after sending;
      input_requests are answered from "stdin" in order
  {"op": "shutdown", "restart": false}
      send shutdown_request on control; answer the reply and whether the
      kernel process exited by itself within 10 s
  {"op": "restart"}   KernelManager.restart_kernel, then wait until ready
  {"op": "alive"}     whether the kernel process is alive
  {"op": "drain", "seconds": S}  collect stray iopub messages for S seconds
  {"op": "quit"}      stop the kernel (if alive) and exit
Messages are reported as {"msg_type", "msg_id", "parent_msg_id", "content",
"metadata", "header"}. Errors are answered as {"error": "..."}.
"""

import json
import queue
import sys
import time
import traceback

from jupyter_client.manager import KernelManager


def slim(msg):
    return {
        "msg_type": msg["header"]["msg_type"],
        "msg_id": msg["header"]["msg_id"],
        "parent_msg_id": (msg.get("parent_header") or {}).get("msg_id", ""),
        "header": {k: str(v) for k, v in msg["header"].items()},
        "content": msg["content"],
        "metadata": msg.get("metadata", {}),
        "buffers": len(msg.get("buffers") or []),
    }


class Driver:
    def __init__(self, kernel_name):
        self.km = KernelManager(kernel_name=kernel_name)
        t0 = time.monotonic()
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.startup = time.monotonic() - t0
        self.stray = []  # iopub messages that belonged to no waited-for request

    def channel(self, name):
        return {"shell": self.kc.shell_channel, "control": self.kc.control_channel}[name]

    def getter(self, name):
        """The blocking get-message function of a channel."""
        return {"shell": self.kc.get_shell_msg, "control": self.kc.get_control_msg}[name]

    def send(self, channel, msg_type, content):
        msg = self.kc.session.msg(msg_type, content)
        self.channel(channel).send(msg)
        return msg["header"]["msg_id"]

    def wait(self, channel, msg_id, timeout, interrupt_at=None, stdin_lines=None):
        """Wait for the reply to msg_id and its iopub status idle."""
        deadline = time.monotonic() + timeout
        reply, iopub, idle = None, [], False
        stdin_lines = list(stdin_lines or [])
        inputs = []
        get = self.getter(channel)
        while reply is None or not idle:
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(
                    "no %s within %ss (got reply=%s, idle=%s, iopub=%s)"
                    % ("reply" if reply is None else "status idle", timeout, reply is not None, idle,
                       [m["msg_type"] for m in iopub]))
            if interrupt_at is not None and now >= interrupt_at:
                self.km.interrupt_kernel()
                interrupt_at = None
            progressed = False
            try:
                m = self.kc.get_iopub_msg(timeout=0.005)
                progressed = True
                s = slim(m)
                if s["parent_msg_id"] == msg_id:
                    iopub.append(s)
                    if s["msg_type"] == "status" and s["content"].get("execution_state") == "idle":
                        idle = True
                else:
                    self.stray.append(s)
            except queue.Empty:
                pass
            if reply is None:
                try:
                    m = get(timeout=0.005)
                    progressed = True
                    if (m.get("parent_header") or {}).get("msg_id") == msg_id:
                        reply = slim(m)
                except queue.Empty:
                    pass
            try:
                m = self.kc.get_stdin_msg(timeout=0)
                progressed = True
                inputs.append(slim(m))
                self.kc.input(stdin_lines.pop(0) if stdin_lines else "")
            except queue.Empty:
                pass
            if not progressed:
                time.sleep(0.001)
        out = {"msg_id": msg_id, "reply": reply, "iopub": iopub}
        if inputs:
            out["input_requests"] = inputs
        return out

    def do(self, cmd):
        op = cmd["op"]
        timeout = cmd.get("timeout", 60)
        if op == "request":
            ch = cmd.get("channel", "shell")
            mid = self.send(ch, cmd["msg_type"], cmd.get("content", {}))
            return self.wait(ch, mid, timeout)
        if op == "execute":
            content = {
                "code": cmd["code"],
                "silent": cmd.get("silent", False),
                "store_history": cmd.get("store_history", True),
                "user_expressions": cmd.get("user_expressions", {}),
                "allow_stdin": cmd.get("allow_stdin", False),
                "stop_on_error": cmd.get("stop_on_error", True),
            }
            t0 = time.monotonic()
            mid = self.send("shell", "execute_request", content)
            ia = cmd.get("interrupt_after")
            out = self.wait("shell", mid, timeout,
                            interrupt_at=None if ia is None else t0 + ia,
                            stdin_lines=cmd.get("stdin"))
            out["elapsed"] = time.monotonic() - t0
            return out
        if op == "shutdown":
            mid = self.send("control", "shutdown_request", {"restart": cmd.get("restart", False)})
            reply = None
            deadline = time.monotonic() + timeout
            while reply is None and time.monotonic() < deadline:
                try:
                    m = self.kc.get_control_msg(timeout=0.1)
                    if (m.get("parent_header") or {}).get("msg_id") == mid:
                        reply = slim(m)
                except queue.Empty:
                    pass
            t0 = time.monotonic()
            exited = False
            while time.monotonic() - t0 < 10:
                if not self.km.is_alive():
                    exited = True
                    break
                time.sleep(0.01)
            code = None
            proc = getattr(getattr(self.km, "provisioner", None), "process", None)
            if proc is not None:
                code = proc.poll()
            return {"reply": reply, "exited": exited, "exit_code": code,
                    "exit_s": time.monotonic() - t0}
        if op == "restart":
            self.km.restart_kernel(now=False)
            self.kc.wait_for_ready(timeout=60)
            return {"ok": True}
        if op == "alive":
            return {"alive": self.km.is_alive()}
        if op == "drain":
            end = time.monotonic() + cmd.get("seconds", 0.5)
            while time.monotonic() < end:
                try:
                    self.stray.append(slim(self.kc.get_iopub_msg(timeout=0.05)))
                except queue.Empty:
                    pass
            out, self.stray = self.stray, []
            return {"iopub": out}
        raise ValueError("unknown op %r" % op)

    def close(self):
        try:
            self.kc.stop_channels()
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)


def main():
    try:
        d = Driver(sys.argv[1])
    except Exception as e:  # report start failures to the Go side
        print(json.dumps({"error": "starting the kernel: %s" % e, "trace": traceback.format_exc()}), flush=True)
        return 1
    print(json.dumps({"ready": True, "startup_s": d.startup}), flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            try:
                out = d.do(cmd)
            except Exception as e:
                out = {"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()}
            print(json.dumps(out, default=str), flush=True)
    finally:
        d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
