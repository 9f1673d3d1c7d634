"""An event-loop heartbeat in its own process: `python -m tests.heartbeat PORT USER PASSWORD` logs in over IMAP,
sends NOOP every 50 ms until its stdin closes, then prints "<worst round trip in seconds> <beats>".

A process of its own, so that the test's other clients (smtplib's regexes over a 20 MB message, reading large
literals) cannot hold this client's GIL and pass their own pauses off as the daemon's.
"""

from __future__ import annotations

import socket
import sys
import threading
import time

INTERVAL = 0.05
DEADLINE = 60.0


def _command(file: socket.SocketIO, sock: socket.socket, tag: bytes, text: bytes) -> bytes:
    sock.sendall(tag + b" " + text + b"\r\n")
    while True:
        line = file.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        if line.startswith(tag + b" "):
            return line


def main(port: int, user: str, password: str) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    file = sock.makefile("rb")
    file.readline()
    answer = _command(file, sock, b"h0", b'LOGIN %b "%b"' % (user.encode(), password.encode()))
    if b" OK" not in answer:
        raise SystemExit(f"login failed: {answer!r}")
    print("ready", flush=True)
    finished = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), finished.set()), daemon=True).start()
    worst, beats = 0.0, 0
    while not finished.is_set():
        started = time.monotonic()
        try:
            answer = _command(file, sock, b"h%d" % (beats + 1), b"NOOP")
        except OSError:  # no answer within DEADLINE: blocked at least that long
            worst = float("inf")
            break
        worst = max(worst, time.monotonic() - started)
        beats += 1
        finished.wait(INTERVAL)
    print(f"{worst} {beats}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
