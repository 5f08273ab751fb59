"""A PostgreSQL server of the benchmarks' own, configured like a production server.

The machine's shared PostgreSQL (127.0.0.1:5432) runs with the Debian defaults
(shared_buffers 128 MB) and is used by everyone on the machine, so it is never
reconfigured or restarted by a benchmark. This starts a separate PostgreSQL 15
cluster (the same binaries) under bench/out/pg15/ on its own port, with the
settings below: shared_buffers large enough for the scale-1 data (about 3.5 GB
of tables and indexes), checkpoints spaced out and full-page images compressed
(what a production server writing this much would have). Durability is
untouched: fsync, full_page_writes and synchronous_commit stay on.

    .venv/bin/python -m bench.dedicated start [--shared-buffers 4GB]  # prints the URL
    .venv/bin/python -m bench.api --database-url "$(.venv/bin/python -m bench.dedicated url)" …
    .venv/bin/python -m bench.dedicated stop

The server runs as the `postgres` system user (PostgreSQL refuses root).
Every benchmark prints the server's settings with its figures.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.database import ROOT

BIN = Path("/usr/lib/postgresql/15/bin")
DATA = ROOT / "bench" / "out" / "pg15"
PORT = 5499
DATABASE = "mos_bench"
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "port": str(PORT),
    "unix_socket_directories": f"'{DATA}'",
    "max_connections": "50",
    "shared_buffers": "4GB",
    "effective_cache_size": "12GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "checkpoint_completion_target": "0.9",
    "wal_compression": "on",
    "wal_buffers": "64MB",
    "random_page_cost": "1.1",
}


def url() -> str:
    return f"postgresql://postgres@127.0.0.1:{PORT}/{DATABASE}"


def as_postgres(*command: str) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, check=False)


def start(shared_buffers: str) -> None:
    if not (DATA / "PG_VERSION").exists():
        DATA.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(DATA, "postgres", "postgres")
        done = as_postgres(str(BIN / "initdb"), "-D", str(DATA), "-U", "postgres", "-A", "trust")
        if done.returncode:
            raise SystemExit(f"initdb failed:\n{done.stderr}")
    settings = SETTINGS | {"shared_buffers": shared_buffers}
    conf = "\n".join(f"{name} = {value}" for name, value in settings.items()) + "\n"
    auto = DATA / "postgresql.auto.conf"
    auto.write_text("# written by bench/dedicated.py\n" + conf)
    if os.geteuid() == 0:
        shutil.chown(auto, "postgres", "postgres")
    status = as_postgres(str(BIN / "pg_ctl"), "-D", str(DATA), "status")
    action = "restart" if status.returncode == 0 else "start"
    done = as_postgres(
        str(BIN / "pg_ctl"), "-D", str(DATA), "-l", str(DATA / "server.log"), "-w", action
    )
    if done.returncode:
        raise SystemExit(f"pg_ctl {action} failed:\n{done.stdout}{done.stderr}")
    print(url())


def stop() -> None:
    done = as_postgres(str(BIN / "pg_ctl"), "-D", str(DATA), "-m", "fast", "-w", "stop")
    print(done.stdout.strip() or done.stderr.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop", "url"])
    parser.add_argument("--shared-buffers", default=SETTINGS["shared_buffers"])
    options = parser.parse_args()
    if options.action == "start":
        start(options.shared_buffers)
    elif options.action == "stop":
        stop()
    else:
        print(url())


if __name__ == "__main__":
    sys.exit(main())
