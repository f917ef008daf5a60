"""The default ``WINDOW_INFO_MIDDLEWARES``.

A middleware copies a few values from a request into a ``WindowInfo``, and
to and from the plain dict that travels in task messages.  Subclass
``WindowInfoMiddleware`` and add it to the setting to carry more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from dfws_celery.window_info import WindowInfo


class WindowInfoMiddleware:
    """Base class: every hook is a no-op."""

    def new_window_info(self, window_info: WindowInfo) -> None:
        pass

    def from_request(self, request: HttpRequest, window_info: WindowInfo) -> None:
        pass

    def to_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        pass

    def from_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        pass


class WindowKeyMiddleware(WindowInfoMiddleware):
    """The window key (set by ``dfws_web``'s middleware) and what binds it to a browser.

    A page with a Django session is bound to it, a page without one to the
    browser's ``dfwsid`` cookie (``dfws_web`` sets it): each travels as a keyed
    hash (:func:`hash_session_key`), enough to name the ``SESSION`` topic —
    the session key and the browser id never leave the web process.
    """

    def from_request(self, request: HttpRequest, window_info: WindowInfo) -> None:
        window_info.window_key = getattr(request, "window_key", None)
        session = getattr(request, "session", None)
        key = getattr(session, "session_key", None)
        window_info.session_hash = hash_session_key(key) if key else None
        browser = None if key else getattr(request, "dfws_browser_id", None)
        window_info.browser_hash = hash_browser_id(browser) if browser else None

    def to_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        values["window_key"] = window_info.window_key
        values["session_hash"] = window_info.session_hash
        if window_info.browser_hash is not None:
            values["browser_hash"] = window_info.browser_hash
        if window_info.call_id is not None:
            values["call_id"] = window_info.call_id

    def from_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        window_info.window_key = values.get("window_key")
        window_info.session_hash = values.get("session_hash")
        window_info.browser_hash = values.get("browser_hash")
        window_info.call_id = values.get("call_id")


SESSION_HASH_SALT = "dfws.session_hash"


def hash_session_key(session_key: str) -> str:
    """The session's name outside the web process: an HMAC keyed with ``SECRET_KEY``.

    The same in every process sharing the settings (it names the ``SESSION``
    group and binds a socket to its page's session), but nobody without
    ``SECRET_KEY`` can compute it from a session key.  32 hex characters.
    """
    return salted_hmac(SESSION_HASH_SALT, session_key, algorithm="sha256").hexdigest()[:32]


USER_FIELDS = ("is_authenticated", "is_anonymous", "is_staff", "is_superuser", "is_active")


class DjangoAuthMiddleware(WindowInfoMiddleware):
    """The user's pk, username and flags; the user object is loaded lazily in workers."""

    def from_request(self, request: HttpRequest, window_info: WindowInfo) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        window_info._user = user
        window_info.user_pk = user.pk
        window_info.username = user.get_username()
        for name in USER_FIELDS:
            setattr(window_info, name, bool(getattr(user, name, False)))

    def to_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        if window_info.user_pk is None:
            return
        values["user_pk"] = window_info.user_pk
        values["username"] = window_info.username
        for name in USER_FIELDS:
            values[name] = getattr(window_info, name)

    def from_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        if values.get("user_pk") is None:
            return
        window_info.user_pk = values["user_pk"]
        window_info.username = values.get("username")
        for name in USER_FIELDS:
            setattr(window_info, name, bool(values.get(name, False)))


class Djangoi18nMiddleware(WindowInfoMiddleware):
    """The active language; handlers run with it activated."""

    def new_window_info(self, window_info: WindowInfo) -> None:
        from django.utils import translation

        window_info.language_code = translation.get_language()

    def from_request(self, request: HttpRequest, window_info: WindowInfo) -> None:
        from django.utils import translation

        window_info.language_code = getattr(request, "LANGUAGE_CODE", None) or (
            translation.get_language()
        )

    def to_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        values["language_code"] = window_info.language_code

    def from_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        window_info.language_code = values.get("language_code")


class BrowserMiddleware(WindowInfoMiddleware):
    """The browser's user agent."""

    def from_request(self, request: HttpRequest, window_info: WindowInfo) -> None:
        window_info.user_agent = request.META.get("HTTP_USER_AGENT", "")

    def to_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        values["user_agent"] = window_info.user_agent

    def from_dict(self, window_info: WindowInfo, values: dict[str, Any]) -> None:
        window_info.user_agent = values.get("user_agent", "")


def hash_browser_id(browser_id: str) -> str:
    """The keyed hash of a browser's ``dfwsid`` cookie (never equal to a session's)."""
    return hash_session_key(f"browser:{browser_id}")
