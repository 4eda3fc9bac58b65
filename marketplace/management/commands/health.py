"""``manage.py health web|worker|scheduler``: exit 0 when the process kind's dependencies answer.

For a supervisor's or an orchestrator's probe (docs/operations.md, "Health and metrics"):
``worker`` checks the database and the broker (and Redis when the broker is RabbitMQ:
``BROKER_URL``), ``scheduler`` also that a scheduler holds the Redis lock (so that the periodic
jobs run). Prints one line per check; exit 1 on any failure.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from marketplace.health import checks_for


class Command(BaseCommand):
    """Probe the dependencies of one process kind."""

    help = __doc__

    def add_arguments(self, parser):
        """One positional argument: the process kind."""
        parser.add_argument("kind", choices=["web", "worker", "scheduler"])

    def handle(self, *args, **options):
        """Run the checks, print them, fail when one failed."""
        results = checks_for(options["kind"])
        for name, problem in results.items():
            self.stdout.write(f"{name}: {problem or 'ok'}")
        failed = [problem for problem in results.values() if problem]
        if failed:
            raise CommandError(f"{options['kind']} unhealthy: " + "; ".join(failed))
