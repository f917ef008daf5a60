from pathlib import Path

from django.urls import path, re_path
from django.views.static import serve

import dfws_web
from dfws_web.metrics_view import metrics
from tests.testapp import views

STATIC_ROOT = Path(dfws_web.__file__).resolve().parent / "static"

urlpatterns = [
    path("", views.page, name="page"),
    path("article/<int:pk>/", views.article, name="article"),
    path("room/<str:name>/", views.room, name="room"),
    path("ajax/trigger/", views.ajax_trigger, name="ajax_trigger"),
    path("create-and-trigger/", views.create_and_trigger, name="create_and_trigger"),
    path("login/<str:username>/", views.login_as, name="login_as"),
    path("logout/", views.logout_view, name="logout"),
    path("metrics/", metrics, name="metrics"),
]

# daphne serves no static files: the browser tests need the client script
urlpatterns += [
    re_path(r"^static/(?P<path>.*)$", serve, {"document_root": STATIC_ROOT}),
]
