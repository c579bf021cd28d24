#!/usr/bin/env python3
"""Start-to-decision timer for bench/run.sh.

    mono.py PATTERN CMD [ARG...]

Takes CLOCK_MONOTONIC just before starting CMD, reads CMD's stderr line by
line and takes the clock again when a line contains PATTERN. Prints two
numbers in milliseconds: start to that line, and start to CMD's exit.
Exits 1 if the line never came or CMD failed.
"""
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    pattern = sys.argv[1].encode()
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = None
    assert proc.stderr is not None
    for line in proc.stderr:
        if seen is None and pattern in line:
            seen = time.monotonic_ns()
    rc = proc.wait()
    t_exit = time.monotonic_ns()
    if seen is None or rc != 0:
        print(f"mono.py: rc={rc}, pattern seen: {seen is not None}", file=sys.stderr)
        return 1
    print(f"{(seen - t0) / 1e6:.3f} {(t_exit - t0) / 1e6:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
