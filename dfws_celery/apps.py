from __future__ import annotations

from django.apps import AppConfig


class DfwsCeleryConfig(AppConfig):
    name = "dfws_celery"
    verbose_name = "dfws signals"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed
        from django.utils.module_loading import autodiscover_modules

        from dfws_celery import checks  # noqa: F401  (registers the system checks)
        from dfws_celery.celery_app import get_celery_app
        from dfws_celery.compiler import compile_all, install_router
        from dfws_celery.conf import on_setting_changed

        setting_changed.connect(on_setting_changed, dispatch_uid="dfws_settings")
        autodiscover_modules("signals")
        compile_all()
        install_router(get_celery_app())
