#!/usr/bin/env python3
"""Hostile load against a running zengen, on loopback only, bounded in count and time.

Two roles, run as two processes so that one cannot slow the other's measurements:

  good    a well-behaved client on 127.0.0.1: an operator-token GET of a setting (session
          check, policy decision, durable audit record) over one keep-alive TLS connection,
          one request after another; prints its errors and latency percentiles as JSON.
  attack  a hostile client on 127.0.0.2 (another loopback address): keeps up to IDLE
          connections open that never speak or trickle their headers a byte at a time, plus
          request workers sending anonymous requests of which 10 % are malformed (bad request
          line, 1e999 in JSON, a nesting bomb, an oversized Content-Length); prints what it saw.

  bodies  large bodies at once (issue 13 item 2): COUNT anonymous ones from 127.0.0.2 and
          COUNT with a machine token from 127.0.0.1, each BODY_MIB MiB, PUT to PATH (a chunk
          route, whose bodies the server spools); prints the answers' statuses as JSON.

Only 127.0.0.0/8 targets are accepted. Usage (bench/hostile-load/run.sh drives it):
  hostile_load.py good   --port P --ca CERT --token T --seconds S
  hostile_load.py attack --port P --seconds S [--idle 500] [--workers 2]
  hostile_load.py bodies --port P --ca CERT --token T --seconds S --path PATH [--count 16]
                         [--body-mib 64]
"""
import argparse
import ipaddress
import json
import random
import selectors
import socket
import ssl
import sys
import threading
import time

GOOD_SOURCE = "127.0.0.1"
HOSTILE_SOURCE = "127.0.0.2"
TARGET = "127.0.0.1"


def loopback_only(host):
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit(f"hostile_load: {host} is not a loopback address")


def connect(port, source, context, timeout=5.0):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(timeout)
    raw.bind((source, 0))
    raw.connect((TARGET, port))
    if context is None:
        return raw
    return context.wrap_socket(raw, server_hostname=TARGET)


def read_response(sock):
    """Reads one Content-Length framed response; returns (status, body) or raises."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        rest += chunk
    return status, rest[:length]


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def good(args):
    context = ssl.create_default_context(cafile=args.ca)
    request = (f"GET /api/v1/settings/program_name HTTP/1.1\r\nHost: {TARGET}\r\n"
               f"Authorization: Bearer {args.token}\r\n\r\n").encode()
    latencies, errors, statuses = [], [], {}
    sock = None
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            if sock is None:
                sock = connect(args.port, GOOD_SOURCE, context)
            sock.sendall(request)
            status, _ = read_response(sock)
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200:
                errors.append(f"status {status}")
        except (OSError, ConnectionError, ValueError, IndexError) as e:
            errors.append(type(e).__name__ + ": " + str(e))
            if sock is not None:
                sock.close()
            sock = None
            continue
        latencies.append((time.monotonic() - start) * 1000.0)
    if sock is not None:
        sock.close()
    print(json.dumps({
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "first_errors": errors[:5],
        "statuses": statuses,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else None,
    }))


def post(path, body, content_length=None):
    length = len(body) if content_length is None else content_length
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode() + body


MALFORMED = [
    b"THIS IS NOT HTTP\r\n\r\n",
    b"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    post("/api/v1/auth/login", b'{"username":"a","password":1e999}'),
    post("/api/v1/auth/login", b"[" * 5000 + b"]" * 5000),
    post("/api/v1/participants", b"x" * 65536, content_length=64 << 20),
]
ANONYMOUS = [
    b"GET /api/v1/participants HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/admin/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer zgo_forged\r\n\r\n",
    b"GET /api/v1/audit HTTP/1.1\r\nHost: x\r\n\r\n",
]


def attack(args):
    stop = time.monotonic() + args.seconds
    counts = {"idle_opened": 0, "idle_refused": 0, "requests": 0, "malformed_sent": 0,
              "connect_failed": 0, "statuses": {}}
    lock = threading.Lock()

    def bump(key, n=1):
        with lock:
            counts[key] = counts.get(key, 0) + n

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def worker(seed):
        rng = random.Random(seed)
        sock = None
        while time.monotonic() < stop:
            malformed = rng.random() < 0.10
            payload = rng.choice(MALFORMED if malformed else ANONYMOUS)
            try:
                if sock is None:
                    sock = connect(args.port, HOSTILE_SOURCE, context, timeout=3.0)
                sock.sendall(payload)
                status, _ = read_response(sock)
                with lock:
                    counts["statuses"][status] = counts["statuses"].get(status, 0) + 1
                    counts["requests"] += 1
                    counts["malformed_sent"] += 1 if malformed else 0
                if malformed or status in (413, 429, 431):
                    sock.close()
                    sock = None
            except (OSError, ConnectionError, ValueError, IndexError):
                bump("connect_failed")
                if sock is not None:
                    sock.close()
                sock = None
                time.sleep(0.01)
        if sock is not None:
            sock.close()

    def idler():
        # Up to args.idle sockets: half never send a byte, half trickle a request header one
        # byte a second. Refused or closed ones are reopened, at most 200 opens a second.
        sel = selectors.DefaultSelector()
        trickle = b"GET /api/v1/participants HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
        held = {}
        next_trickle = time.monotonic()
        while time.monotonic() < stop:
            opened = 0
            while len(held) < args.idle and opened < 20 and time.monotonic() < stop:
                slow = opened % 2 == 1
                try:
                    # Silent ones stop before TLS; slow ones finish the handshake, then trickle.
                    s = connect(args.port, HOSTILE_SOURCE, context if slow else None, timeout=1.0)
                    s.setblocking(False)
                    held[s] = {"slow": slow, "at": 0}
                    sel.register(s, selectors.EVENT_READ)
                    bump("idle_opened")
                except OSError:
                    bump("idle_refused")
                opened += 1
            for key, _ in sel.select(timeout=0.1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    held.pop(s, None)
                    s.close()
                    bump("idle_refused")
            if time.monotonic() >= next_trickle:
                next_trickle = time.monotonic() + 1.0
                for s, state in list(held.items()):
                    if state["slow"] and state["at"] < len(trickle):
                        try:
                            s.send(trickle[state["at"]:state["at"] + 1])
                            state["at"] += 1
                        except OSError:
                            pass
        for s in list(held):
            s.close()

    threads = [threading.Thread(target=idler)]
    threads += [threading.Thread(target=worker, args=(i,)) for i in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(counts))


def bodies(args):
    context = ssl.create_default_context(cafile=args.ca)
    piece = bytes(range(256)) * 4096  # 1 MiB; the client never holds a whole body either
    size = args.body_mib << 20
    results = {"anonymous": {}, "authenticated": {}}
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def one(kind):
        auth = f"Authorization: Bearer {args.token}\r\n" if kind == "authenticated" else ""
        head = (f"PUT {args.path} HTTP/1.1\r\nHost: {TARGET}\r\n{auth}"
                f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n")
        outcome = "no answer"
        sock = None
        try:
            source = GOOD_SOURCE if kind == "authenticated" else HOSTILE_SOURCE
            sock = connect(args.port, source, context, timeout=args.seconds)
            sock.sendall(head.encode())
            try:
                sent = 0
                while sent < size and time.monotonic() < deadline:
                    sock.sendall(piece)
                    sent += len(piece)
            except OSError:
                pass  # answered and closed before the whole body: the answer counts
            status, _ = read_response(sock)
            outcome = str(status)
        except (OSError, ConnectionError, ValueError, IndexError) as e:
            outcome = type(e).__name__
        finally:
            if sock is not None:
                sock.close()
        with lock:
            results[kind][outcome] = results[kind].get(outcome, 0) + 1

    threads = [threading.Thread(target=one, args=(kind,))
               for kind in ["anonymous"] * args.count + ["authenticated"] * args.count]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(results))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["good", "attack", "bodies"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--ca")
    p.add_argument("--token")
    p.add_argument("--idle", type=int, default=500)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--path", default="/api/v1/uploads/UP-0000000000000000/chunks/0")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--body-mib", type=int, default=64)
    args = p.parse_args()
    loopback_only(TARGET)
    if not 1 <= args.seconds <= 300:
        sys.exit("hostile_load: --seconds must be 1-300")
    if not 0 <= args.idle <= 2000 or not 0 <= args.workers <= 16:
        sys.exit("hostile_load: --idle must be 0-2000 and --workers 0-16")
    if not 0 <= args.count <= 64 or not 1 <= args.body_mib <= 64:
        sys.exit("hostile_load: --count must be 0-64 and --body-mib 1-64")
    if args.role == "good":
        good(args)
    elif args.role == "bodies":
        bodies(args)
    else:
        attack(args)


if __name__ == "__main__":
    main()
