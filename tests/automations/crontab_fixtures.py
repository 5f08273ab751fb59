"""Running the scripts against the real `crontab` program without touching anyone's crontab.

Tests run as root (CI, this machine): `CRONTAB_BIN` points at a two-line wrapper
around the real /usr/bin/crontab with `-u nobody`, so the scripts read and
install the crontab of the throw-away `nobody` account. Its previous crontab
(normally none) is saved and put back; a file lock keeps two test runs on the
machine from sharing it at once.
"""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CRONTAB_USER = "nobody"
LOCK = Path("/tmp/marketing-os-crontab-tests.lock")


@pytest.fixture
def crontab(tmp_path):
    """A `Crontab` handle on the real program, for a throw-away user's crontab."""
    real = shutil.which("crontab")
    if real is None or os.geteuid() != 0:
        pytest.skip("needs the cron package's crontab and root (to use `crontab -u nobody`)")
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        handle = Crontab(real, tmp_path / "crontab")
        saved = handle.installed()
        handle.remove()
        try:
            yield handle
        finally:
            handle.install(saved) if saved else handle.remove()


class Crontab:
    def __init__(self, real: str, wrapper: Path):
        self.real = real
        self.wrapper = wrapper
        wrapper.write_text(f'#!/bin/sh\nexec {real} -u {CRONTAB_USER} "$@"\n')
        wrapper.chmod(0o755)

    @property
    def env(self) -> dict[str, str]:
        return os.environ | {"CRONTAB_BIN": str(self.wrapper)}

    def installed(self) -> str:
        """The installed crontab as `crontab -l` prints it ("" when there is none)."""
        done = subprocess.run([self.wrapper, "-l"], capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else ""

    def install(self, text: str) -> None:
        subprocess.run([self.wrapper, "-"], input=text, text=True, check=True)

    def remove(self) -> None:
        subprocess.run([self.wrapper, "-r"], capture_output=True)
