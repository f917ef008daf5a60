"""The optional dependencies: which extra of the ``dfws`` distribution brings which module.

A base install (``pip install dfws``) is enough for one process with the
in-memory channel layer and cache: Django, Celery, Channels and daphne.
Redis (the channel layers of ``layers``, the sync publisher, the limits,
history and presence), django-celery-results and Prometheus come with an
extra each.  A feature that needs a missing one says which to install
instead of failing later on a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib.util

from django.core.exceptions import ImproperlyConfigured

# extra -> the modules it installs (import names, not distribution names)
EXTRAS: dict[str, tuple[str, ...]] = {
    "redis": ("redis", "channels_redis"),
    "results": ("django_celery_results",),
    "metrics": ("prometheus_client",),
}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (none: it is installed)."""
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def advice(extra: str) -> str:
    return f"pip install 'dfws[{extra}]'"


def require(extra: str, feature: str) -> None:
    """Raise ``ImproperlyConfigured`` naming ``extra`` when one of its modules is missing."""
    absent = missing(extra)
    if absent:
        raise ImproperlyConfigured(
            f"{feature} needs {' and '.join(absent)}, which the {extra!r} extra of dfws "
            f"installs: {advice(extra)}"
        )
