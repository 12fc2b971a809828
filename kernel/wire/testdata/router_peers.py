"""Peers for TestRouterSocketWithLibzmq: libzmq DEALER and REQ sockets
(pyzmq, as jupyter_client uses them) talking to gopherlab's ROUTER socket,
which echoes every message back to its sender.

Usage: router_peers.py ENDPOINT. Prints "ok" and exits 0 when every check
passed; otherwise exits non-zero with the reason on stderr.
"""

import sys
import time

import zmq

endpoint = sys.argv[1]
ctx = zmq.Context()
TIMEOUT_MS = 10000


def sock(kind, identity=None):
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = TIMEOUT_MS
    s.sndtimeo = TIMEOUT_MS
    if identity is not None:
        s.setsockopt(zmq.IDENTITY, identity)
    s.connect(endpoint)
    return s


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def roundtrip(s, frames, what):
    s.send_multipart(frames)
    try:
        got = s.recv_multipart()
    except zmq.Again:
        sys.exit("FAIL: %s: no echo" % what)
    check(got == frames, "%s: echo %r, sent %r" % (what, got[:3], frames[:3]))


big = b"x" * 70000  # a long frame (8-byte size)
alice = sock(zmq.DEALER, b"alice")
roundtrip(alice, [b"one", b"", big, b"{}"], "DEALER with an identity, multipart with a long and an empty frame")
anon = sock(zmq.DEALER)
roundtrip(anon, [b"two"], "DEALER without an identity")
req = sock(zmq.REQ)
roundtrip(req, [b"ping"], "REQ (heartbeat style)")
roundtrip(req, [b"ping again"], "REQ second request")

# A second connection with the same identity gets the replies; the first
# stays connected and gets them back when the second leaves.
alice2 = sock(zmq.DEALER, b"alice")
roundtrip(alice2, [b"three"], "second connection with identity alice")
alice2.close()
time.sleep(0.2)
roundtrip(alice, [b"four"], "first alice after the second left")

# Disconnect and reconnect with the same identity.
alice.close()
time.sleep(0.1)
alice = sock(zmq.DEALER, b"alice")
roundtrip(alice, [b"five"], "alice reconnected")
print("ok")
