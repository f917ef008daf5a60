"""Who may call a dfws signal from a browser (``@signal(is_allowed_to=...)``).

A permission is a callable ``(connection, window_info, kwargs) -> bool``.
It is checked in the worker, before the handler runs, for calls that came
from a browser; server code (views, tasks, beat) is always allowed.

The helpers below are also decided at the websocket edge, before anything
is queued (:func:`decided_at_edge`): a refused call costs no broker message,
no worker and no stored result.  A project's own callable runs in the
worker only (it may need what only the worker has).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from dfws_celery.window_info import WindowInfo

# the first argument is the ``registry.SignalConnection`` being called (typed loosely: the
# registry sits above this module)
Permission = Callable[[Any, "WindowInfo", dict[str, Any]], bool]


def at_edge(permission: Permission) -> Permission:
    """Mark ``permission`` as cheap and safe to decide in the web process too."""
    permission.dfws_at_edge = True  # type: ignore[attr-defined]
    return permission


def decided_at_edge(permission: Permission) -> bool:
    return bool(getattr(permission, "dfws_at_edge", False))


@at_edge
def server_side(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    """The default: browsers may not call this signal."""
    return False


@at_edge
def everyone(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    """Any window may call, logged in or not."""
    return True


@at_edge
def is_authenticated(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    return bool(window_info.is_authenticated)


@at_edge
def is_anonymous(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    return bool(window_info.is_anonymous)


@at_edge
def is_staff(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    """Active staff members, as Django's admin admits them (an inactive one is refused even
    where the project's authentication backend lets inactive users log in)."""
    return bool(window_info.is_staff and window_info.is_active)


@at_edge
def is_superuser(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    """Active superusers (``User.has_perm`` gives an inactive superuser nothing either)."""
    return bool(window_info.is_superuser and window_info.is_active)


def has_perm(perm: str) -> Permission:
    """Allowed to users holding ``perm`` (``"app_label.codename"``)."""
    if perm.count(".") != 1:
        raise ImproperlyConfigured(f"has_perm({perm!r}): expected 'app_label.codename'")

    def check(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
        return window_info.has_perm(perm)

    check.__name__ = check.__qualname__ = f"has_perm({perm!r})"
    return at_edge(check)


def describe(permission: Permission) -> str:
    return getattr(permission, "__name__", repr(permission))
