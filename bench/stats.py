"""The report's arithmetic: percentiles, ratios, and CPU time read from ``/proc``.

CPU time is the kernel's account of a process (all its threads) in clock ticks:
``utime + stime`` from ``/proc/<pid>/stat``. For a server that forks workers (PostgreSQL),
``tree_cpu_seconds`` adds its live children and the reaped ones (``cutime + cstime``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["cpu_seconds", "per_turn_ms", "percentile", "ratio", "rss_kb", "tree_cpu_seconds"]

_TICKS = os.sysconf("SC_CLK_TCK")
# Indexes into the fields after the command name in /proc/<pid>/stat (stat(5) numbers - 3).
_PPID, _UTIME, _STIME, _CUTIME, _CSTIME = 1, 11, 12, 13, 14


def percentile(ordered: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0 < q <= 100) of ascending ``ordered``, by nearest rank."""
    if not ordered:
        return math.nan
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is outside (0, 100]")
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[rank - 1]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """Return ``numerator / denominator`` to 3 places, or None when either is unknown or 0."""
    if numerator is None or not denominator or math.isnan(numerator) or math.isnan(denominator):
        return None
    return round(numerator / denominator, 3)


def per_turn_ms(seconds: float, turns: int) -> float | None:
    """Return ``seconds`` spread over ``turns``, in milliseconds to 3 places."""
    return round(seconds * 1000 / turns, 3) if turns else None


def _fields(pid: int) -> list[str]:
    # The command name may hold spaces and parentheses: split after the last ")".
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """Return the user+system CPU time process ``pid`` has used, all threads."""
    fields = _fields(pid)
    return (int(fields[_UTIME]) + int(fields[_STIME])) / _TICKS


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU time of ``pid``, its live children, and its children already reaped."""
    fields = _fields(pid)
    ticks = sum(int(fields[i]) for i in (_UTIME, _STIME, _CUTIME, _CSTIME))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _fields(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # it exited while we looked
        if int(child[_PPID]) == pid:
            ticks += int(child[_UTIME]) + int(child[_STIME])
    return ticks / _TICKS


def rss_kb(pid: int) -> int | None:
    """A process's resident set size in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None
