"""manage.py replay_deliveries [--since WHEN] [--webhook ID]: send failed deliveries again
(same delivery ids, fresh attempts), from the workers."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware

from dashboard.errors import ApplicationError
from dashboard.webhooks import deliveries_replay, webhook_get


def moment(text: str):
    """An ISO date or date-time (naive ones in the server's time zone)."""
    try:  # a well-formed but impossible date (2026-02-30) raises
        parsed = parse_datetime(text)
        if parsed is None and (day := parse_date(text)) is not None:
            parsed = parse_datetime(f"{day.isoformat()}T00:00:00")
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(f"--since: not an ISO date or date-time: {text!r}.")
    return make_aware(parsed) if is_naive(parsed) else parsed


class Command(BaseCommand):
    help = "Send the failed webhook deliveries again (optionally since a time, of one webhook)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only deliveries created since (ISO date/time).")
        parser.add_argument("--webhook", help="Only this webhook's deliveries (its id).")

    def handle(self, *args, since=None, webhook=None, **options):
        try:
            hook = webhook_get(webhook_id=webhook) if webhook else None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        count = deliveries_replay(since=moment(since) if since else None, webhook=hook)
        self.stdout.write(f"{count} failed deliveries sent again.")
