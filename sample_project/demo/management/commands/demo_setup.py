"""``demo_setup``: the demo user (a superuser, for the admin too); idempotent."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo superuser (default login demo / demo) if it does not exist."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo")

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        model = get_user_model()
        if model.objects.filter(username=username).exists():
            self.stdout.write(f"user {username!r} exists")
            return
        model.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"created superuser {username!r} (password {password!r})")
