"""Small helpers the benchmarks share that bench/mail_bench.py does not offer (in its committed form):
/proc readings by PID, and the host's busy CPU time.

mail_bench reads CPU and peak memory of processes it started itself (a Popen). The line benchmark also
measures processes that the product starts (the call handlers and Kamailio under `manage.py telephony`),
which it only knows by PID, and process trees (Kamailio and PostgreSQL fork workers).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessId:
    """A PID together with its start time (in clock ticks after boot): a PID the kernel reuses for
    another process no longer matches, so a late stop never signals a stranger."""

    pid: int
    started: int

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        fields = _stat_fields(pid)
        return None if fields is None else cls(pid, int(fields[19]))

    def alive(self) -> bool:
        fields = _stat_fields(self.pid)
        return fields is not None and int(fields[19]) == self.started and fields[0] != "Z"


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (field 3, the state, is index 0); None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """CPU time (user + system) of the process so far; with `reaped_children`, also that of its children
    that have exited and been waited for (a forking server's finished workers). NaN when it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return float("nan")
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MiB; NaN when it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return float("nan")
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (scanning /proc: /proc/<pid>/task/*/children is not in every
    kernel)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def process_tree(pid: int) -> list[int]:
    """`pid` and all its live descendants."""
    tree, index = [pid], 0
    while index < len(tree):
        tree.extend(children(tree[index]))
        index += 1
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process tree so far: every live member, and the members that exited and were reaped
    (counted in their parent's children time)."""
    readings = (cpu_seconds(member, reaped_children=True) for member in process_tree(pid))
    return sum(value for value in readings if not math.isnan(value))  # a member may end meanwhile


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy since boot, every process's (a benchmark shares the host)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / CLOCK_TICKS
