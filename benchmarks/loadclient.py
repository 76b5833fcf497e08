#!/usr/bin/env python3
"""The load benchmark's client (standard library only). Every mode is bounded by a count and a
time, talks to 127.0.0.1 only, and prints one JSON object: what it did and how long it took.

  handshake  new TLS 1.3 connections, each presenting a P-256 client certificate, closed at once
  pageview   keep-alive TLS connections, each asking PATH again and again (optional session cookie)
  logon      complete user logons: certificate -> PIN -> home, each on a new connection
  sessions   one request under each session in a tokens file (INDEX TOKEN lines)

Several worker processes share the work (--procs); pin the whole client to its own core with
taskset, away from the server's.
"""
import argparse
import http.client
import json
import multiprocessing
import re
import socket
import ssl
import sys
import time

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def context(args, index):
    """A client TLS context presenting sample certificate `index` (or args.cert)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if args.certs:
        n = index % args.samples
        ctx.load_cert_chain(f"{args.certs}/user-{n}.pem", f"{args.certs}/user-{n}.key")
    return ctx


def handshake_worker(args, worker, deadline, quota):
    ctx = context(args, worker)
    done = errors = 0
    while done + errors < quota and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", args.port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.do_handshake()
                    # TLS 1.3: the server checks the client's certificate and Finished after the
                    # client's side of the handshake ends. close_notify, answered by the server's
                    # own, makes the client wait until the server has done all of that.
                    tls.settimeout(5)
                    try:
                        tls.unwrap()
                    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError):
                        pass   # nginx closes without its own close_notify; it read ours, so the handshake was done
            done += 1
        except OSError:
            errors += 1
    return {"done": done, "errors": errors, "latencies": []}


def pageview_worker(args, worker, deadline, quota):
    ctx = context(args, worker)
    cookie = args.cookie_lines[worker % len(args.cookie_lines)] if args.cookie_lines else None
    done = errors = 0
    conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=ctx, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    while done + errors < quota and time.monotonic() < deadline:
        try:
            conn.request("GET", args.path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status == 200 and len(body) > 0:
                done += 1
            else:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=ctx, timeout=10)
    conn.close()
    return {"done": done, "errors": errors, "latencies": []}


def logon_once(args, ctx):
    """certificate -> PIN -> home on one new connection; True when home answered 200."""
    conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=ctx, timeout=30)
    try:
        conn.request("GET", "/logon?as=user")
        response = conn.getresponse()
        page = response.read().decode("utf-8", "replace")
        match = CSRF.search(page)
        form_cookie = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
        if response.status != 200 or not match:
            return False
        body = f"csrf={match.group(1)}&pin={args.pin}"
        conn.request("POST", "/logon/pin", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(form_cookie)})
        response = conn.getresponse()
        response.read()
        session = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or [] if "session" in c]
        if response.status != 303 or response.headers.get("Location") != "/home" or not session:
            return False
        conn.request("GET", "/home", headers={"Cookie": "; ".join(session)})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    finally:
        conn.close()


def logon_worker(args, worker, deadline, quota):
    done = errors = 0
    latencies = []
    index = worker
    while done + errors < quota and time.monotonic() < deadline:
        ctx = context(args, index)
        index += args.procs
        start = time.monotonic()
        try:
            ok = logon_once(args, ctx)
        except (OSError, http.client.HTTPException):
            ok = False
        if ok:
            done += 1
            latencies.append(time.monotonic() - start)
        else:
            errors += 1
    return {"done": done, "errors": errors, "latencies": latencies}


def sessions_worker(args, worker, deadline, quota):
    """Visits every session whose certificate index falls to this worker, on one connection per
    certificate."""
    done = errors = 0
    for sample in range(worker, args.samples, args.procs):
        tokens = [token for index, token in args.sessions if index == sample]
        conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=context(args, sample), timeout=10)
        for token in tokens:
            if time.monotonic() > deadline:
                break
            try:
                conn.request("GET", "/home", headers={"Cookie": f"__Host-bizdirect_session={token}"})
                response = conn.getresponse()
                response.read()
                done += response.status == 200
                errors += response.status != 200
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", args.port, context=context(args, sample), timeout=10)
        conn.close()
    return {"done": done, "errors": errors, "latencies": []}


WORKERS = {"handshake": handshake_worker, "pageview": pageview_worker, "logon": logon_worker, "sessions": sessions_worker}


def run(packed):
    args, worker, deadline, quota = packed
    return WORKERS[args.mode](args, worker, deadline, quota)


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=sorted(WORKERS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certs", help="folder with user-N.pem / user-N.key")
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max", type=int, default=100000, help="at most this many operations in all")
    parser.add_argument("--path", default="/")
    parser.add_argument("--cookies", help="file of Cookie header values, one per line (pageview)")
    parser.add_argument("--tokens", help="sessions file: INDEX TOKEN per line (sessions)")
    parser.add_argument("--pin", default="user1pin")
    args = parser.parse_args()
    args.cookie_lines = [line.strip() for line in open(args.cookies)] if args.cookies else []
    args.sessions = [(int(a), b) for a, b in (line.split() for line in open(args.tokens))] if args.tokens else []
    deadline = time.monotonic() + args.seconds
    quota = max(1, args.max // args.procs)
    start = time.monotonic()
    with multiprocessing.Pool(args.procs) as pool:
        results = pool.map(run, [(args, worker, deadline, quota) for worker in range(args.procs)])
    elapsed = time.monotonic() - start
    latencies = [x for r in results for x in r["latencies"]]
    print(json.dumps({
        "mode": args.mode, "done": sum(r["done"] for r in results), "errors": sum(r["errors"] for r in results),
        "seconds": round(elapsed, 3),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
    }))


if __name__ == "__main__":
    sys.exit(main())
