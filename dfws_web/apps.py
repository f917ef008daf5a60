from __future__ import annotations

from django.apps import AppConfig


class DfwsWebConfig(AppConfig):
    name = "dfws_web"
    verbose_name = "dfws websockets"

    def ready(self) -> None:
        from dfws_web import (
            checks,  # noqa: F401  (registers the system checks)
            sessions,
        )

        sessions.connect_receivers()
