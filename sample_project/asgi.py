"""ASGI entry point: ``daphne sample_project.asgi:application`` (and ``ASGI_APPLICATION``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")
from dfws_web.asgi import application  # noqa: F401
