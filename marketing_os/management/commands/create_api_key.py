from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.actors import acting_as, command_actor
from marketing_os.models import ApiKey, create_api_key


class Command(BaseCommand):
    help = "Create an API key. The key is printed alone on the last line, and only once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who or what will use the key, e.g. 'LMS sync'.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiKey.Scope.values,
            dest="scopes",
            help="What the key may do: ingest (the POST endpoints), read (GET a customer). "
            "Repeat for both; default: both.",
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            metavar="N",
            help="Requests a minute this key may make; 0: unlimited. "
            "Default: API_RATE_LIMIT_PER_MINUTE, and it follows that setting.",
        )

    def handle(
        self,
        *args: object,
        name: str,
        scopes: list[str] | None,
        rate_limit: int | None,
        **options: object,
    ) -> None:
        if not name.strip():
            raise CommandError("Give the key a name.")
        if rate_limit is not None and rate_limit < 0:
            raise CommandError("--rate-limit must be 0 (unlimited) or more.")
        with acting_as(command_actor("create_api_key")):  # the audit trail's "who"
            key, raw = create_api_key(name.strip(), scopes=scopes, rate_limit_per_minute=rate_limit)
        self.stdout.write(
            f"Created API key {key.pk} {key.name!r} (prefix {key.prefix}, scopes "
            f"{key.scopes_display}, rate limit {key.rate_limit_display}). Store it now: only "
            "its hash is kept, it cannot be shown again."
        )
        self.stdout.write(raw)
