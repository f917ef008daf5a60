"""The socket follows the session: checked at connect, revoked when the session or user changes.

A window remembers, in its cache entry, the hash of the session that loaded
the page and the user it belonged to.  That snapshot is not trusted for long:

* at connect, :func:`check_window` asks Django who the session belongs to
  now (``django.contrib.auth.get_user``: the session must exist, its user
  must be active and its auth hash — rotated by a password change — must
  verify) and refreshes the user's flags the workers will see;
* ``user_logged_out`` closes the sockets of the session that logged out
  (``dfws.revoke`` to its ``SESSION`` group);
* saving a user (a password change, ``is_active = False``, a flag removed)
  makes the sockets of that user check again (``dfws.revalidate`` to its
  ``USER`` group, after the transaction commits).

Windows whose page had no session are not bound to one and pass unchanged.
A full check costs a hop to a thread, one session read and one user read —
three times the rest of a connect.  So a check is trusted for
``WEBSOCKET_SESSION_RECHECK`` seconds (:func:`acheck_window`): the page view
that wrote the window's entry checked its session a moment ago, and a full
check at connect is remembered for the session's other windows.  Within
that interval a connect reads three small records in one round trip on the
event loop instead; a logout or a saved user writes a record that ends the
interval at once.  What the interval does not see is a session removed
without a logout (expiry, ``clearsessions``, an admin deleting it): such a
session is noticed at most ``WEBSOCKET_SESSION_RECHECK`` seconds late; set
it to ``0`` to check every connect.
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import close_old_connections, transaction
from django.db.models.signals import post_save
from django.http import HttpRequest

from dfws_celery.conf import dfws_settings
from dfws_celery.publisher import send
from dfws_celery.targets import SESSION, USER
from dfws_celery.topics import group_name
from dfws_celery.window_info import WindowInfo
from dfws_celery.window_info_middlewares import USER_FIELDS, hash_session_key
from dfws_celery.wire import (
    LayerControl,
    WindowEntry,
    WindowInfoValues,
    revalidate_message,
    revoke_message,
)
from dfws_web.window_cache import AsyncWindowReader, loop_reader, sync_cache
from dfws_web.windows import same_session

logger = logging.getLogger("dfws.websocket")
# saves that change nothing a window relies on (login() updates last_login)
HARMLESS_FIELDS = frozenset({"last_login"})
# the records in the window cache, keyed by session hash or user pk
CHECKED = "session-checked"  # what the last full check of a session found, and when
ENDED = "session-ended"  # the session logged out
CHANGED = "user-changed"  # the user was saved
# the ENDED/CHANGED records outlive the interval by this much: clocks of processes differ
CLOCK_MARGIN = 30


async def acheck_window(session_key: str | None, entry: WindowEntry) -> WindowInfoValues | None:
    """:func:`check_window` for the event loop, skipped while a recent check holds."""
    window_info = entry["window_info"]
    if not window_info.get("session_hash"):
        return window_info
    if not same_session(session_key, window_info):
        return None
    reader = loop_reader() if dfws_settings.session_recheck else None
    if reader is not None:
        recent = await _recently_checked(reader, entry)
        if recent is not None:
            return recent
    started = time.time()
    checked = await sync_to_async(check_window, thread_sensitive=False)(session_key, window_info)
    if checked is not None and reader is not None:
        await _remember(reader, checked, started)
    return checked


def check_window(session_key: str | None, window_info: WindowInfoValues) -> WindowInfoValues | None:
    """The window's values with its user's current flags, or ``None`` if it may not connect.

    Blocking (a session read, a user read): call it in a thread.
    """
    if not window_info.get("session_hash"):  # the page had no session: nothing to follow
        return window_info
    if not same_session(session_key, window_info):
        return None
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user = get_user(request)
    except Exception:
        # a broken database connection of this worker thread: closed, so that the next check
        # opens a new one (on success the thread keeps its connection: opening one per
        # connect cost more than the whole check)
        close_old_connections()
        raise
    if request.session.session_key is None:  # the session is gone (logout, expiry)
        return None
    expected_pk = window_info.get("user_pk")
    if expected_pk is None:  # an anonymous page: its session is all it had
        return window_info
    if not user.is_authenticated or str(user.pk) != str(expected_pk):
        return None
    refreshed = dict(window_info)
    refreshed["username"] = user.get_username()
    for name in USER_FIELDS:
        refreshed[name] = bool(getattr(user, name, False))
    return refreshed


def _record_key(kind: str, ident: Any) -> str:
    return f"{dfws_settings.cache_prefix}:{kind}:{ident}"


async def _recently_checked(
    reader: AsyncWindowReader, entry: WindowEntry
) -> WindowInfoValues | None:
    """The window's values if its session was checked within the interval and nothing since."""
    values = entry["window_info"]
    session_hash, user_pk = values.get("session_hash"), values.get("user_pk")
    kinds = [(CHECKED, session_hash), (ENDED, session_hash)]
    if user_pk is not None:
        kinds.append((CHANGED, user_pk))
    keys = [reader.backend.make_and_validate_key(_record_key(*kind)) for kind in kinds]
    # from the primary: a replica may not have the record a logout has just written
    raw = await reader.primary.mget(keys)
    if any(value is not None for value in raw[1:]):
        return None
    newest, checked_at = values, entry.get("verified_at", 0.0)
    if raw[0] is not None:
        record = reader.serializer.loads(raw[0])
        if (
            isinstance(record, dict)
            and isinstance(record.get("window_info"), dict)
            and record["window_info"].get("user_pk") == user_pk
            and float(record.get("at", 0.0)) > checked_at
        ):
            newest, checked_at = record["window_info"], float(record["at"])
    if time.time() - checked_at >= dfws_settings.session_recheck:
        return None
    return newest


async def _remember(reader: AsyncWindowReader, values: WindowInfoValues, at: float) -> None:
    """Let the session's next connects within the interval skip the check."""
    key = reader.backend.make_and_validate_key(_record_key(CHECKED, values.get("session_hash")))
    record = reader.serializer.dumps({"at": at, "window_info": dict(values)})
    try:
        await reader.primary.set(key, record, ex=dfws_settings.session_recheck)
    except Exception:  # the connect was checked: it goes on, the next one checks again
        logger.warning("could not remember the check of a session", exc_info=True)


def _mark(kind: str, ident: Any) -> None:
    """End the interval of a session (logout) or of a user's sessions (a save)."""
    interval = dfws_settings.session_recheck
    if not interval:
        return
    try:
        sync_cache().set(_record_key(kind, ident), time.time(), interval + CLOCK_MARGIN)
    except Exception:
        logger.exception("could not record that %s %s", kind, ident)


def session_group(session_key: str) -> str | None:
    window_info = WindowInfo(init=False)
    window_info.session_hash = hash_session_key(session_key)
    return _group(window_info, SESSION)


def user_group(user_pk: Any) -> str | None:
    window_info = WindowInfo(init=False)
    window_info.user_pk = user_pk
    return _group(window_info, USER)


def _group(window_info: WindowInfo, target: Any) -> str | None:
    topic = dfws_settings.topic_serializer(window_info, target)
    return None if topic is None else group_name(topic)


def _tell(group: str | None, message: LayerControl, why: str) -> None:
    """Publish a control message; an outage is logged, never raised into a logout."""
    if group is None:
        return
    try:
        send([group], message)
    except Exception:
        logger.exception("could not tell the sockets of %s that %s", group, why)


def on_logged_out(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:
        _mark(ENDED, hash_session_key(key))
        _tell(session_group(key), revoke_message(), "their session ended")


def on_user_saved(
    sender: Any, instance: Any, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if created or instance.pk is None:
        return
    if update_fields is not None and set(update_fields) <= HARMLESS_FIELDS:
        return
    pk, group = instance.pk, user_group(instance.pk)

    def changed() -> None:
        _mark(CHANGED, pk)
        _tell(group, revalidate_message(), "their user changed")

    transaction.on_commit(changed)


def connect_receivers() -> None:
    """Called by ``apps.ready()``."""
    user_logged_out.connect(on_logged_out, dispatch_uid="dfws_logged_out")
    post_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid="dfws_user_saved")
