"""`make serve`: the production server — checks, collectstatic, migrate, then gunicorn.

    python -m marketing_os.serve

DEBUG is forced off (whatever `.env` says). Settings come from the environment
and `.env`; a missing SECRET_KEY or a bad value stops here with one clear line,
not a traceback in every worker. gunicorn binds 127.0.0.1:$PORT (default 8000)
with $WEB_CONCURRENCY sync workers (default 2 × CPUs + 1); a TLS-terminating
proxy goes in front. Extra gunicorn flags: $GUNICORN_CMD_ARGS.
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured


class ServeError(Exception):
    pass


def positive_int(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        raise ServeError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


def gunicorn_command(*, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "marketing_os.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        # The request log middleware writes one line per request; no second access log.
        "--error-logfile=-",
        "--forwarded-allow-ips=127.0.0.1",
        "--no-control-socket",  # one fixed path per host; two instances would collide
    ]


def prepare() -> list[str]:
    """Everything before the server starts; the gunicorn command to run."""
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_os.settings")
    port = positive_int("PORT", 8000)
    workers = positive_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
    import django
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.db import connections

    try:
        django.setup()
        call_command("check", "--deploy")  # warnings are printed; errors stop here
    except (ImproperlyConfigured, SystemCheckError) as error:
        raise ServeError(str(error)) from None
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("migrate", "--noinput", verbosity=0)
    connections.close_all()  # gunicorn starts fresh processes; nothing to inherit
    print(f"serve: gunicorn, {workers} workers, http://127.0.0.1:{port}/", file=sys.stderr)
    return gunicorn_command(port=port, workers=workers)


def main() -> None:
    try:
        command = prepare()
    except ServeError as error:
        sys.exit(f"serve: {error}")
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
