"""dfws signal core: declare handlers, compile them into Celery tasks, trigger them."""

from dfws_celery.errors import PublishError
from dfws_celery.permissions import (
    everyone,
    has_perm,
    is_anonymous,
    is_authenticated,
    is_staff,
    is_superuser,
    server_side,
)
from dfws_celery.presence import apresence, presence
from dfws_celery.registry import signal
from dfws_celery.relay import report_progress
from dfws_celery.routing import DynamicQueue
from dfws_celery.targets import BROADCAST, SERVER, SESSION, SYNC, USER, WINDOW
from dfws_celery.trigger import atrigger, atrigger_signal, trigger, trigger_signal
from dfws_celery.validators import RE, Choice, SerializedForm
from dfws_celery.window_info import WindowInfo

__all__ = [
    "BROADCAST",
    "RE",
    "SERVER",
    "SESSION",
    "SYNC",
    "USER",
    "WINDOW",
    "Choice",
    "DynamicQueue",
    "PublishError",
    "SerializedForm",
    "WindowInfo",
    "apresence",
    "atrigger",
    "atrigger_signal",
    "everyone",
    "has_perm",
    "is_anonymous",
    "is_authenticated",
    "is_staff",
    "is_superuser",
    "presence",
    "report_progress",
    "server_side",
    "signal",
    "trigger",
    "trigger_signal",
]
