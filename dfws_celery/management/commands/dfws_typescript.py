from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dfws_celery.registry import REGISTRY
from dfws_celery.typescript import render


class Command(BaseCommand):
    help = (
        "Print TypeScript declarations of the browser-callable signals and the global "
        "DFSignals client: python manage.py dfws_typescript > signals.d.ts"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            metavar="FILE",
            help="print nothing; exit 1 when FILE is not what the command would print (for CI)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = render(REGISTRY.all())
        if options["check"] is None:
            self.stdout.write(text, ending="")
            return
        path = Path(options["check"])
        try:
            current = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}: run dfws_typescript > {path}") from exc
        if current != text:
            raise CommandError(
                f"{path} is stale against the @signal declarations: run dfws_typescript > {path}"
            )
