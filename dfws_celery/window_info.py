"""WindowInfo: what a handler knows about the browser window behind a call.

It is built from an ``HttpRequest`` (in views), from a dict (in workers, the
dict travelled in the task message) or blank (shell, beat).  Which fields it
carries is decided by ``WINDOW_INFO_MIDDLEWARES``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from dfws_celery.conf import dfws_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class WindowInfo:
    """Attributes set by the middlewares; the defaults below describe a blank window."""

    window_key: str | None = None
    session_hash: str | None = None
    browser_hash: str | None = None
    user_pk: Any = None
    username: str | None = None
    is_authenticated: bool = False
    is_anonymous: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = False
    language_code: str | None = None
    user_agent: str = ""
    call_id: str | None = None
    handler: str | None = None
    _user: AbstractBaseUser | AnonymousUser | None = None
    _perms: set[str] | None = None

    def __init__(self, init: bool = True) -> None:
        if init:
            for middleware in dfws_settings.window_info_middlewares:
                middleware.new_window_info(self)

    @classmethod
    def from_request(cls, request: HttpRequest) -> WindowInfo:
        window_info = cls(init=False)
        for middleware in dfws_settings.window_info_middlewares:
            middleware.from_request(request, window_info)
        return window_info

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> WindowInfo:
        window_info = cls(init=False)
        for middleware in dfws_settings.window_info_middlewares:
            middleware.from_dict(window_info, values or {})
        return window_info

    def to_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for middleware in dfws_settings.window_info_middlewares:
            middleware.to_dict(self, values)
        return values

    @classmethod
    def new(cls, source: WindowInfo | HttpRequest | None) -> WindowInfo:
        """Coerce what ``trigger()`` accepts as its first argument."""
        if source is None:
            return cls()
        if isinstance(source, WindowInfo):
            return source
        if isinstance(source, HttpRequest):
            cached = getattr(source, "_dfws_window_info", None)
            if cached is None:
                cached = cls.from_request(source)
                source._dfws_window_info = cached  # type: ignore[attr-defined]
            return cached
        raise TypeError(
            f"Expected a WindowInfo, an HttpRequest or None as first argument, got {source!r}"
        )

    # ---- helpers installed by the default middlewares ----

    @property
    def user(self) -> AbstractBaseUser | AnonymousUser:
        """The user, loaded from the database on first access."""
        if self._user is None:
            from django.contrib.auth import get_user_model
            from django.contrib.auth.models import AnonymousUser

            model = get_user_model()
            user = None
            if self.user_pk is not None:
                user = model._default_manager.filter(pk=self.user_pk).first()
            self._user = user if user is not None else AnonymousUser()
        return self._user

    def has_perm(self, perm: str) -> bool:
        """Like ``User.has_perm``, decided from the user as the database has it now.

        Not from the flags copied when the page loaded: a user deactivated or
        stripped of a permission since then is refused.  The user and their
        permissions are loaded once per WindowInfo (once per handler call).
        """
        if not self.is_authenticated or self.user_pk is None:
            return False
        user = self.user
        if not user.is_active or not user.is_authenticated:
            return False
        if getattr(user, "is_superuser", False):
            return True
        if self._perms is None:
            self._perms = set(user.get_all_permissions())  # type: ignore[attr-defined]
        return perm in self._perms

    def render_to_string(self, template_name: str, context: dict[str, Any] | None = None) -> str:
        """Render a template with this window's user and language."""
        from django.utils import translation

        values = {"window_info": self, "user": self.user, "window_key": self.window_key}
        values.update(context or {})
        with translation.override(self.language_code):
            return render_to_string(template_name, values)

    def __repr__(self) -> str:
        return f"<WindowInfo window={self.window_key!r} user={self.username!r}>"
