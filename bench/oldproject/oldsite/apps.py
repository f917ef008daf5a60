from django.apps import AppConfig


class OldSiteConfig(AppConfig):
    name = "oldsite"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # df-websockets' sync trigger() runs its body in a fresh thread
        # (async_to_sync), where Celery's thread-local current app is the
        # unconfigured fallback (amqp://localhost).  Its own Celery app
        # (df_websockets.celery, what `manage.py worker` runs) must therefore
        # be the process default.
        from df_websockets.celery import app

        app.set_default()
