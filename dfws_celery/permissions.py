"""Who may call a dfws signal from a browser (``@signal(is_allowed_to=...)``).

A permission is a callable ``(connection, window_info, kwargs) -> bool``.
It is checked in the worker, before the handler runs, for calls that came
from a browser; server code (views, tasks, beat) is always allowed.
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


def server_side(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    """The default: browsers may not call this signal."""
    return False


def everyone(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    """Any window may call, logged in or not."""
    return True


def is_authenticated(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    return bool(window_info.is_authenticated)


def is_anonymous(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    return bool(window_info.is_anonymous)


def is_staff(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    return bool(window_info.is_staff)


def is_superuser(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
    return bool(window_info.is_superuser)


def has_perm(perm: str) -> Permission:
    """Allowed to users holding ``perm`` (``"app_label.codename"``)."""
    if perm.count(".") != 1:
        raise ImproperlyConfigured(f"has_perm({perm!r}): expected 'app_label.codename'")

    def check(connection: Any, window_info: WindowInfo, kwargs: Any) -> bool:
        return window_info.has_perm(perm)

    check.__name__ = check.__qualname__ = f"has_perm({perm!r})"
    return check


def describe(permission: Permission) -> str:
    return getattr(permission, "__name__", repr(permission))
