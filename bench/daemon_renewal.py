#!/usr/bin/env python3
"""Renewals inside a running scepd, for bench/run.sh.

    daemon_renewal.py N LOG NEXT_KEY CMD [ARG...]

Starts CMD (a scepd in the foreground whose certificate always needs
renewing) with its stderr in LOG, waits for the renewal it makes at start
and for the key it then makes ahead of time (NEXT_KEY), then N times: SIGUSR1, and the time until LOG
has one more "installed, valid until" line; then waits for the next key
before the next round, so that every renewal uses a key made ahead. Prints
one figure per renewal in microseconds, stops CMD with SIGTERM. Every wait
is bounded (60 s, 300 s for a key); exits 1 when one runs out or CMD dies.
"""
import os
import signal
import subprocess
import sys
import time

PATTERN = b"installed, valid until"


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    n, log, next_key, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=out)

    def wait(done, seconds=60) -> int:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if done():
                return time.monotonic_ns()
            if proc.poll() is not None:
                raise SystemExit(f"daemon_renewal.py: scepd exited ({proc.returncode}); see {log}")
            time.sleep(0.0002)
        raise SystemExit(f"daemon_renewal.py: timed out; see {log}")

    def installed() -> int:
        with open(log, "rb") as f:
            return f.read().count(PATTERN)

    try:
        # It renews once at start (the certificate is always due), taking
        # the key made ahead and then making the next one.
        wait(lambda: installed() >= 1)
        # The key is made at the lowest priority: a busy machine slows it.
        wait(lambda: os.path.exists(next_key), 300)
        for _ in range(n):
            before = installed()
            t0 = time.monotonic_ns()
            proc.send_signal(signal.SIGUSR1)
            t1 = wait(lambda: installed() > before)
            print((t1 - t0) // 1000, flush=True)
            wait(lambda: os.path.exists(next_key), 300)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
