"""The raw Channels baselines: bare consumers on the same settings and channel layer.

``daphne bench.project.bare:application`` serves two of them:

* ``/ws/``: joins one group and writes what it receives (S3, S5, S6, S7);
* ``/ws/call/``: the round trip a user would write by hand (the S4 floor): each socket
  joins a group of its own, a call frame becomes one ``apply_async`` of a plain Celery
  task (``bench.bare_echo``), which ``group_send``s the reply to that group.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")
django_asgi = get_asgi_application()

from bench.project.celery_app import app as celery_app  # noqa: E402  (after Django's setup)
from bench.project.tasks import bare_echo  # noqa: E402

GROUP = "bare.broadcast"
HEARTBEAT = "--heartbeat--"

__all__ = ["application", "celery_app"]


class BareConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]  # joined before accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == HEARTBEAT:
            await self.send(text_data=HEARTBEAT)

    async def bare_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


class BareCaller(AsyncWebsocketConsumer):
    """A call in, a plain task out, its reply back through the socket's own group."""

    async def connect(self) -> None:
        self.reply_group = f"bare.w.{uuid.uuid4().hex}"
        await self.channel_layer.group_add(self.reply_group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.reply_group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == HEARTBEAT:
            await self.send(text_data=HEARTBEAT)
        elif text_data:
            # as written by hand: apply_async straight from the consumer (a short blocking
            # publish to the broker, no thread hop)
            bare_echo.apply_async((self.reply_group, json.loads(text_data)["opts"]["n"]))

    async def bare_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {
        "http": django_asgi,
        "websocket": URLRouter(
            [path("ws/", BareConsumer.as_asgi()), path("ws/call/", BareCaller.as_asgi())]
        ),
    }
)
