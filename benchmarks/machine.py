"""Benchmark of the machine itself: how late a process that waits 1 ms wakes up.

The other benchmarks' tails (p99) cannot be lower than the stalls every process on the machine
sees. On a virtual machine whose host lends its CPUs to others, those stalls come and go; run
this next to ``enforcement.py`` to tell the integration's latency from the machine's.

* ``wakeup_late_{median,p99}_ms``: how much later than asked a 1 ms sleep returns, over 30 s of
  a process that does nothing else.
* ``stalls_over_20ms_per_min``: wake-ups later than 20 ms (the emergency stop's target), a minute.
* ``cpu_steal_pct``: the share of CPU time the host gave to others meanwhile (Linux only).

Run: .venv/bin/python benchmarks/machine.py
"""

import statistics
import sys
import time
from pathlib import Path

DURATION_S = 30.0
SLEEP_S = 0.001
STALL_S = 0.020


def cpu_ticks() -> tuple[int, int] | None:
    """Stolen and total CPU time of the machine so far (Linux ``/proc/stat``), if known."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(field) for field in fields]
    return ticks[7], sum(ticks[:8])


def main() -> int:
    """Sleep 1 ms at a time for 30 s and print how late each wake-up was, stalls last."""
    before = cpu_ticks()
    late: list[float] = []
    end = time.perf_counter() + DURATION_S
    while (asked := time.perf_counter()) < end:
        time.sleep(SLEEP_S)
        late.append(time.perf_counter() - asked - SLEEP_S)
    after = cpu_ticks()
    late.sort()
    print(f"wakeups: {len(late)}")
    print(f"wakeup_late_median_ms: {1000 * statistics.median(late):.2f}")
    print(f"wakeup_late_p99_ms: {1000 * late[round(0.99 * len(late)) - 1]:.2f}")
    print(f"wakeup_late_max_ms: {1000 * late[-1]:.2f}")
    if before is not None and after is not None:
        stolen = after[0] - before[0]
        print(f"cpu_steal_pct: {100 * stolen / (after[1] - before[1]):.1f}")
    stalls = sum(1 for value in late if value > STALL_S)
    print(f"stalls_over_20ms_per_min: {stalls * 60 / DURATION_S:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
