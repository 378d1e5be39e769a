#!/usr/bin/env python3
"""A connection flood against `insight-replay serve`, on loopback: opens N idle connections
(and N half-sent heads), reads the server's resident memory at the peak and after they close,
and counts how many were refused (503) by --max-connections.

    python3 scripts/flood.py BINARY [--connections 5000] [--half 2000] [serve options …]
"""
import argparse, os, socket, subprocess, sys, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--half", type=int, default=2000)
    args, extra = parser.parse_known_args()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + args.half + 256)), hard))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--threads", "2", *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for _ in range(100):
            line = server.stdout.readline()
            if "listening" in line: break
        time.sleep(0.5)
        before = rss_kib(server.pid)
        held, refused = [], 0
        for i in range(args.connections + args.half):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i >= args.connections:
                s.sendall(b"GET /us2/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-")
            held.append(s)
        time.sleep(2)
        peak = rss_kib(server.pid)
        for s in held:
            s.setblocking(False)
            try:
                if s.recv(64).startswith(b"HTTP/1.1 503"): refused += 1
            except (BlockingIOError, ConnectionError):
                pass
        for s in held: s.close()
        time.sleep(3)
        after = rss_kib(server.pid)
        print(f"connections {args.connections} idle + {args.half} half-sent heads: RSS {before/1024:.1f} MB before, "
              f"{peak/1024:.1f} MB at the peak, {after/1024:.1f} MB 3 s after they closed; {refused} refused with 503")
    finally:
        server.terminate(); server.wait(timeout=10)

if __name__ == "__main__":
    main()
