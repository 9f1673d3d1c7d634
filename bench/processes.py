"""The worker processes of a running smb-suite and their resident memory, for the benchmarks' memory figure
(issue 14: idle RSS per worker <= 80 MB). Reads /proc only."""

from __future__ import annotations

import os
from pathlib import Path

RSS_GOAL_MB = 80.0


def serving_pids(pid: int) -> list[int]:
    """The processes that serve: the supervisor's workers (`python -m smb_suite.daemon`), or the daemon itself
    when it runs alone (`[server] workers = 1`)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = [int(child) for child in children if b"smb_suite.daemon" in Path(f"/proc/{child}/cmdline").read_bytes()]
    return workers or [pid]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, of its children it has waited for (Postfix's smtpd, cleanup... that
    exited), and of its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # gone meanwhile
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return own + sum(cpu_seconds(int(child)) for child in children)


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle_rss_line(pid: int) -> str:
    """`figure idle_rss_per_worker` (the largest worker, against the goal) and each worker's RSS."""
    sizes = [rss_mb(worker) for worker in serving_pids(pid)]
    each = " ".join(f"{size:.1f}" for size in sizes)
    return (
        f"figure idle_rss_per_worker: ours={max(sizes):.1f} goal={RSS_GOAL_MB:.1f} unit=MB "
        f"ratio={max(sizes) / RSS_GOAL_MB:.2f} (workers={len(sizes)}: {each})"
    )
