from django.apps import AppConfig


class DfwsWebConfig(AppConfig):
    name = "dfws_web"
    verbose_name = "dfws websockets"
