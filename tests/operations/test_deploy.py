"""The production configuration, checked the way an operator would start it."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from marketing_os.serve import gunicorn_command

ROOT = Path(__file__).resolve().parent.parent.parent


def production_env(**overrides: str) -> dict:
    env = os.environ | {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.com",
    }
    return env | overrides


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_deploy_check_finds_nothing_to_warn_about():
    done = run(["manage.py", "check", "--deploy", "--fail-level=WARNING"], production_env())

    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_serve_refuses_to_start_without_a_secret_key_in_one_clear_line():
    env = production_env(SECRET_KEY="")  # empty, so a developer's .env cannot fill it in

    done = run(["-m", "marketing_os.serve"], env)

    assert done.returncode == 1
    assert done.stderr.strip() == "serve: SECRET_KEY must be set when DEBUG is off."


def test_serve_refuses_a_worker_count_that_is_not_a_number():
    done = run(["-m", "marketing_os.serve"], production_env(WEB_CONCURRENCY="lots"))

    assert done.returncode == 1
    assert "WEB_CONCURRENCY must be a whole number" in done.stderr


def test_gunicorn_binds_loopback_on_the_given_port_with_the_given_workers():
    command = gunicorn_command(port=8123, workers=3)

    assert "--bind=127.0.0.1:8123" in command and "--workers=3" in command
    assert "marketing_os.wsgi:application" in command


def database_url_for_tests() -> str:
    """A URL for the test database, whether TCP or the embedded server's socket."""
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") + (f":{db['PORT']}" if db["PORT"] else "")
    return f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@{host}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def wait_for(url: str, server: subprocess.Popen) -> tuple[int, bytes]:
    for _ in range(120):
        try:
            return get(url)
        except OSError:
            assert server.poll() is None, server.communicate()[1][-2000:]
            time.sleep(0.25)
    raise AssertionError(f"{url} never answered")


@pytest.mark.django_db
def test_serve_runs_gunicorn_that_answers_health_and_hashed_static_files():
    port = free_port()
    env = production_env(
        DATABASE_URL=database_url_for_tests(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        PORT=str(port),
        WEB_CONCURRENCY="1",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "marketing_os.serve"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz", server) == (200, b'{"status": "ok"}')
        _, page = get(f"http://127.0.0.1:{port}/login/")
        stylesheet = page.decode().split('href="/static/vendor/bootstrap/')[1].split('"')[0]
        assert stylesheet.count(".") == 3  # bootstrap.min.<hash>.css: the manifest is in use
        status, _ = get(f"http://127.0.0.1:{port}/static/vendor/bootstrap/{stylesheet}")
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
