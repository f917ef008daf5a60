"""The raw Channels baseline: a bare consumer joining one group, nothing else.

``daphne bench.project.bare:application`` (same settings, same channel layer).
"""

from __future__ import annotations

import os
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")
django_asgi = get_asgi_application()

GROUP = "bare.broadcast"
HEARTBEAT = "--heartbeat--"


class BareConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]  # joined before accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == HEARTBEAT:
            await self.send(text_data=HEARTBEAT)

    async def bare_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {"http": django_asgi, "websocket": URLRouter([path("ws/", BareConsumer.as_asgi())])}
)
