"""What every benchmark prints with its figures: the machine and the database server."""

import os
import platform
from urllib.parse import urlparse

import psycopg


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def describe_machine(url: str) -> str:
    """Several lines: CPU, cores, RAM, load, PostgreSQL version and where it runs."""
    with psycopg.connect(url) as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "server_version",
                "shared_buffers",
                "work_mem",
                "max_wal_size",
                "checkpoint_timeout",
                "wal_compression",
                "synchronous_commit",
            )
        }
    where = urlparse(url)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return "\n".join(
        [
            f"machine:    {cpu_model()}, {os.cpu_count()} cores, {ram_gib():.1f} GiB RAM, "
            f"load average {load} (1/5/15 min)",
            f"os:         {platform.platform()}, Python {platform.python_version()}",
            f"postgresql: {settings['server_version']} via DATABASE_URL "
            f"{where.hostname}:{where.port or 5432}{where.path} (not the embedded server), "
            f"shared_buffers {settings['shared_buffers']}, work_mem {settings['work_mem']}",
            f"            max_wal_size {settings['max_wal_size']}, checkpoint_timeout "
            f"{settings['checkpoint_timeout']}, wal_compression {settings['wal_compression']}, "
            f"synchronous_commit {settings['synchronous_commit']}",
        ]
    )
