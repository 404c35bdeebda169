"""CPU time of processes, read from /proc (Linux), for the benchmarks."""

import os
from pathlib import Path


def children(parent: int) -> list[int]:
    """The ids of the processes whose parent is ``parent``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime, fields 14 and 15 of stat(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its direct children (gunicorn's workers)."""
    return sum(cpu_seconds(p) for p in (pid, *children(pid)))
