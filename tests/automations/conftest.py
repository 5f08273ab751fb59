from tests.automations.crontab_fixtures import crontab  # noqa: F401
