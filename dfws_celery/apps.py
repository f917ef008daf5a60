from __future__ import annotations

from django.apps import AppConfig


class DfwsCeleryConfig(AppConfig):
    """Wires dfws up once Django is ready; nothing of it runs at import time."""

    name = "dfws_celery"
    verbose_name = "dfws signals"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed
        from django.utils.module_loading import autodiscover_modules

        from dfws_celery import (
            builtin_tasks,
            checks,  # noqa: F401  (registers the system checks)
            compiler,
            routing,
        )
        from dfws_celery.celery_app import get_celery_app
        from dfws_celery.conf import on_setting_changed
        from dfws_celery.registry import REGISTRY

        setting_changed.connect(on_setting_changed, dispatch_uid="dfws_settings")
        autodiscover_modules("signals")
        builtin_tasks.register()
        compiler.compile_all()
        routing.install_router(get_celery_app(), REGISTRY.by_task_name.get)
