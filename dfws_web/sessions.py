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
A check costs one session read and one user read, only for windows with a
session.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

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
from dfws_celery.wire import LayerControl, WindowInfoValues, revalidate_message, revoke_message
from dfws_web.windows import same_session

logger = logging.getLogger("dfws.websocket")
# saves that change nothing a window relies on (login() updates last_login)
HARMLESS_FIELDS = frozenset({"last_login"})


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
        _tell(session_group(key), revoke_message(), "their session ended")


def on_user_saved(
    sender: Any, instance: Any, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if created or instance.pk is None:
        return
    if update_fields is not None and set(update_fields) <= HARMLESS_FIELDS:
        return
    group = user_group(instance.pk)
    transaction.on_commit(lambda: _tell(group, revalidate_message(), "their user changed"))


def connect_receivers() -> None:
    """Called by ``apps.ready()``."""
    user_logged_out.connect(on_logged_out, dispatch_uid="dfws_logged_out")
    post_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid="dfws_user_saved")
