"""Every dfws setting, its default, read when used.

Nothing is frozen at import time: each property reads ``django.conf.settings``
on access, so ``override_settings`` just works.  Values that need an import
(encoder classes, the topic serializer, window-info middlewares) are cached
and the cache is dropped on Django's ``setting_changed`` signal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

WORKER_MODES = ("celery", "thread", "process", "channels")

DEFAULT_WINDOW_INFO_MIDDLEWARES = [
    "dfws_celery.window_info_middlewares.WindowKeyMiddleware",
    "dfws_celery.window_info_middlewares.DjangoAuthMiddleware",
    "dfws_celery.window_info_middlewares.Djangoi18nMiddleware",
    "dfws_celery.window_info_middlewares.BrowserMiddleware",
]

DEFAULTS: dict[str, Any] = {
    "WEBSOCKET_WORKERS": "celery",
    "WEBSOCKET_DEFAULT_QUEUE": "celery",
    "WEBSOCKET_CACHE_EXPIRE": 36000,
    "WEBSOCKET_CACHE_PREFIX": "dfws",
    "WEBSOCKET_CACHE_BACKEND": "default",
    "WEBSOCKET_SIGNAL_ENCODER": "django.core.serializers.json.DjangoJSONEncoder",
    "WEBSOCKET_SIGNAL_DECODER": "json.JSONDecoder",
    "WEBSOCKET_TOPIC_SERIALIZER": "dfws_celery.topics.serialize_topic",
    "WEBSOCKET_POOL_SIZES": {},
    "WINDOW_INFO_MIDDLEWARES": DEFAULT_WINDOW_INFO_MIDDLEWARES,
    "WEBSOCKET_URL": "/ws/",
    "WEBSOCKET_CELERY_APP": None,
    "WEBSOCKET_MAX_FRAME_SIZE": 65536,
    "WEBSOCKET_CALL_TIMEOUT": 30,
    "WEBSOCKET_RATE_LIMIT": 20,
    "WEBSOCKET_ALLOWED_ORIGINS": [],
    "WEBSOCKET_UNCONNECTED_EXPIRE": 300,
    "WEBSOCKET_MAX_SOCKETS_PER_WINDOW": 4,
    "WEBSOCKET_MAX_SOCKETS_PER_ADDRESS": 100,
    "WEBSOCKET_MAX_CALLS_IN_FLIGHT": 20,
    "WEBSOCKET_QUEUE_LIMITS": {},
    "WEBSOCKET_MAX_REFUSALS": 30,
    "WEBSOCKET_SESSION_RECHECK": 60,
    "WEBSOCKET_HISTORY": {"size": 100, "ttl": 300},
    "WEBSOCKET_PRESENCE": None,
    "WEBSOCKET_TRIGGER_ON_COMMIT": True,
    "WEBSOCKET_QUEUE_WATCH": {"interval": 5, "timeout": 1, "grace": 30},
    "WEBSOCKET_METRICS": False,
}


@dataclass(frozen=True)
class HistorySettings:
    """``WEBSOCKET_HISTORY``: what each group keeps for windows that reconnect."""

    size: int = 100  # frames kept per group (about: Redis trims in blocks)
    ttl: int = 300  # seconds frames are kept after the group's last one
    meta_ttl: int = 86400  # seconds a group's epoch and last offset are kept
    skip: tuple[str, ...] = ()  # serialized topics (prefixes) whose frames are not kept

    @property
    def skip_groups(self) -> tuple[str, ...]:
        return tuple(f"dfws.{topic}" for topic in self.skip)


@dataclass(frozen=True)
class QueueWatchSettings:
    """``WEBSOCKET_QUEUE_WATCH``: how web processes learn which queues have a consumer."""

    interval: float = 5.0  # seconds between two questions to the workers
    timeout: float = 1.0  # seconds the workers have to answer one
    grace: float = 30.0  # seconds a queue still counts as consumed after it was last seen
    warn_interval: float = 60.0  # seconds between two warnings about one unconsumed queue


@dataclass(frozen=True)
class PresenceSettings:
    """``WEBSOCKET_PRESENCE``: which topics know who is connected to them."""

    topics: tuple[str, ...] = ()  # serialized topic prefixes ("" for every topic)
    signals: bool = True  # send dfws.presence (joined/left) to the topic's windows
    ttl: int = 75  # seconds a member stays without a heartbeat (the browser beats every 30)
    process_ttl: int = 10  # seconds a killed daphne process's members remain

    def tracks(self, serialized_topic: str) -> bool:
        return serialized_topic.startswith(self.topics) if self.topics else False


def _get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def _import(name: str) -> Any:
    value = _get(name)
    if not isinstance(value, str):
        return value
    try:
        return import_string(value)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{name} = {value!r} cannot be imported: {exc}") from exc


class DfwsSettings:
    """Lazy accessors for the dfws settings (see docs/reference/settings.md)."""

    @property
    def workers(self) -> str:
        mode = _get("WEBSOCKET_WORKERS")
        # names used by the older package
        mode = {"multithread": "thread", "multiprocess": "process"}.get(mode, mode)
        if mode not in WORKER_MODES:
            raise ImproperlyConfigured(
                f"WEBSOCKET_WORKERS = {mode!r} is not a known worker mode: "
                f"expected one of {', '.join(WORKER_MODES)}"
            )
        return str(mode)

    @property
    def default_queue(self) -> str:
        return str(_get("WEBSOCKET_DEFAULT_QUEUE"))

    @property
    def cache_expire(self) -> int:
        return int(_get("WEBSOCKET_CACHE_EXPIRE"))

    @property
    def cache_prefix(self) -> str:
        return str(_get("WEBSOCKET_CACHE_PREFIX"))

    @property
    def cache_backend(self) -> str:
        return str(_get("WEBSOCKET_CACHE_BACKEND"))

    @property
    def pool_sizes(self) -> Mapping[str, int]:
        return dict(_get("WEBSOCKET_POOL_SIZES"))

    @property
    def websocket_url(self) -> str:
        return str(_get("WEBSOCKET_URL"))

    @property
    def max_frame_size(self) -> int:
        return int(_get("WEBSOCKET_MAX_FRAME_SIZE"))

    @property
    def call_timeout(self) -> float:
        return float(_get("WEBSOCKET_CALL_TIMEOUT"))

    @property
    def rate_limit(self) -> float:
        """Browser calls per second and per window (bursts of twice that); 0 disables."""
        return float(_get("WEBSOCKET_RATE_LIMIT"))

    @property
    def unconnected_expire(self) -> int:
        """Seconds a window lives before its first socket (then ``cache_expire``)."""
        return min(int(_get("WEBSOCKET_UNCONNECTED_EXPIRE")), self.cache_expire)

    @property
    def history(self) -> HistorySettings | None:
        """``WEBSOCKET_HISTORY``, or ``None`` when it is off (``None``, ``{}``, ``size`` 0)."""
        value = _get("WEBSOCKET_HISTORY")
        if not value:
            return None
        if not isinstance(value, Mapping):
            raise ImproperlyConfigured(
                'WEBSOCKET_HISTORY must be a dict such as {"size": 100, "ttl": 300}, or None'
            )
        unknown = set(value) - {"size", "ttl", "meta_ttl", "skip"}
        if unknown:
            raise ImproperlyConfigured(f"WEBSOCKET_HISTORY: unknown keys {sorted(unknown)}")
        config = HistorySettings(
            size=int(value.get("size", 100)),
            ttl=int(value.get("ttl", 300)),
            meta_ttl=int(value.get("meta_ttl", 86400)),
            skip=tuple(value.get("skip", ())),
        )
        if config.size <= 0:
            return None
        return config

    @property
    def queue_watch(self) -> QueueWatchSettings | None:
        """``WEBSOCKET_QUEUE_WATCH``, or ``None`` when it is off (``None`` or ``{}``)."""
        value = _get("WEBSOCKET_QUEUE_WATCH")
        if not value:
            return None
        if not isinstance(value, Mapping):
            raise ImproperlyConfigured(
                'WEBSOCKET_QUEUE_WATCH must be a dict such as {"interval": 5}, or None'
            )
        unknown = set(value) - {"interval", "timeout", "grace", "warn_interval"}
        if unknown:
            raise ImproperlyConfigured(f"WEBSOCKET_QUEUE_WATCH: unknown keys {sorted(unknown)}")
        return QueueWatchSettings(**{k: float(v) for k, v in value.items()})

    @property
    def metrics(self) -> bool:
        """``WEBSOCKET_METRICS``: count in ``prometheus_client`` metrics (see ``metrics``)."""
        return bool(_get("WEBSOCKET_METRICS"))

    @property
    def presence(self) -> PresenceSettings | None:
        """``WEBSOCKET_PRESENCE``, or ``None`` when off (the default)."""
        value = _get("WEBSOCKET_PRESENCE")
        if not value:
            return None
        if not isinstance(value, Mapping) or not isinstance(value.get("topics"), list | tuple):
            raise ImproperlyConfigured(
                'WEBSOCKET_PRESENCE must be a dict such as {"topics": ["room."]}, or None'
            )
        unknown = set(value) - {"topics", "signals", "ttl", "process_ttl"}
        if unknown:
            raise ImproperlyConfigured(f"WEBSOCKET_PRESENCE: unknown keys {sorted(unknown)}")
        return PresenceSettings(
            topics=tuple(str(t) for t in value["topics"]),
            signals=bool(value.get("signals", True)),
            ttl=max(5, int(value.get("ttl", 75))),
            process_ttl=max(2, int(value.get("process_ttl", 10))),
        )

    @property
    def session_recheck(self) -> int:
        """Seconds a check of a session lets later connects of its windows skip the next one.

        A page view checks its session (Django's ``AuthenticationMiddleware``); a
        logout or a saved user cuts the interval short.  ``0``: every connect reads
        the session and the user.
        """
        return max(0, int(_get("WEBSOCKET_SESSION_RECHECK")))

    @property
    def trigger_on_commit(self) -> bool:
        """Whether ``trigger()`` inside ``transaction.atomic()`` waits for the commit."""
        return bool(_get("WEBSOCKET_TRIGGER_ON_COMMIT"))

    @property
    def max_sockets_per_window(self) -> int:
        return int(_get("WEBSOCKET_MAX_SOCKETS_PER_WINDOW"))

    @property
    def max_sockets_per_address(self) -> int:
        return int(_get("WEBSOCKET_MAX_SOCKETS_PER_ADDRESS"))

    @property
    def max_calls_in_flight(self) -> int:
        """Calls of one window queued or running at once, every queue together; 0: no cap."""
        return int(_get("WEBSOCKET_MAX_CALLS_IN_FLIGHT"))

    @property
    def queue_limits(self) -> Mapping[str, int]:
        """Per queue, calls of one window queued or running at once on that queue."""
        return {str(k): int(v) for k, v in dict(_get("WEBSOCKET_QUEUE_LIMITS")).items()}

    @property
    def max_refusals(self) -> int:
        """Refused frames a socket may send in a minute before it is closed; 0: no cap."""
        return int(_get("WEBSOCKET_MAX_REFUSALS"))

    @property
    def allowed_origins(self) -> list[str]:
        """Origins besides the site's own that may open a websocket."""
        return [str(origin) for origin in _get("WEBSOCKET_ALLOWED_ORIGINS")]

    @property
    def celery_app_path(self) -> str | None:
        value = _get("WEBSOCKET_CELERY_APP")
        return None if value is None else str(value)

    @cached_property
    def encoder(self) -> type[json.JSONEncoder]:
        return _import("WEBSOCKET_SIGNAL_ENCODER")  # type: ignore[no-any-return]

    @cached_property
    def decoder(self) -> type[json.JSONDecoder]:
        return _import("WEBSOCKET_SIGNAL_DECODER")  # type: ignore[no-any-return]

    @cached_property
    def topic_serializer(self) -> Callable[[Any, Any], str | None]:
        return _import("WEBSOCKET_TOPIC_SERIALIZER")  # type: ignore[no-any-return]

    @cached_property
    def window_info_middlewares(self) -> list[Any]:
        return [import_string(path)() for path in _get("WINDOW_INFO_MIDDLEWARES")]

    def encode(self, value: Any) -> str:
        return json.dumps(value, cls=self.encoder, separators=(",", ":"))

    def decode(self, text: str | bytes) -> Any:
        return json.loads(text, cls=self.decoder)

    def reset(self) -> None:
        """Drop every cached value (called on ``setting_changed``)."""
        for name in ("encoder", "decoder", "topic_serializer", "window_info_middlewares"):
            self.__dict__.pop(name, None)


dfws_settings = DfwsSettings()


def on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in DEFAULTS:
        dfws_settings.reset()
