from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit.actors import acting_as, command_actor
from marketing_os.models import ApiKey


class Command(BaseCommand):
    help = "Revoke an API key, named by its id or its prefix (see list_api_keys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="The key's id or prefix, e.g. 3 or mos_AbCdEfGh.")

    def handle(self, *args: object, key: str, **options: object) -> None:
        try:
            api_key = ApiKey.objects.find(key)
        except ApiKey.DoesNotExist:
            raise CommandError(f"No API key has id or prefix {key!r}.") from None
        except ApiKey.MultipleObjectsReturned:
            raise CommandError(f"Several API keys match {key!r}: give the id.") from None
        with acting_as(command_actor("revoke_api_key")):  # the audit trail's "who"
            revoked = api_key.revoke(now=timezone.now())
        if not revoked:
            self.stdout.write(f"API key {api_key} was already revoked.")
            return
        self.stdout.write(f"Revoked API key {api_key.pk} {api_key}.")
