#!/usr/bin/env python3
"""Start-to-decision timer for bench/run.sh.

    mono.py PATTERN CMD [ARG...]

Takes CLOCK_MONOTONIC just before starting CMD, reads CMD's stderr line by
line and takes the clock again when a line contains PATTERN. Prints two
numbers in milliseconds: start to that line, and start to CMD's exit.
With MONO_CPU=1 in the environment a third number follows: the CPU time
CMD had used (all its threads, /proc/PID/task/*/schedstat) when the line
came, in milliseconds. Exits 1 if the line never came or CMD failed.
"""
import glob
import os
import subprocess
import sys
import time


def task_cpu_ns(pid: int) -> int:
    """Nanoseconds on a CPU so far, summed over PID's live threads."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path, encoding="ascii") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    pattern = sys.argv[1].encode()
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = None
    cpu_ns = 0
    want_cpu = os.environ.get("MONO_CPU") == "1"
    assert proc.stderr is not None
    for line in proc.stderr:
        if seen is None and pattern in line:
            seen = time.monotonic_ns()
            if want_cpu:
                cpu_ns = task_cpu_ns(proc.pid)
    rc = proc.wait()
    t_exit = time.monotonic_ns()
    if seen is None or rc != 0:
        print(f"mono.py: rc={rc}, pattern seen: {seen is not None}", file=sys.stderr)
        return 1
    cpu = f" {cpu_ns / 1e6:.3f}" if want_cpu else ""
    print(f"{(seen - t0) / 1e6:.3f} {(t_exit - t0) / 1e6:.3f}{cpu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
