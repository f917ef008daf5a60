from django.contrib import admin
from django.urls import include, path

from dfws_web.metrics_view import metrics
from sample_project.demo import views

urlpatterns = [
    path("", views.home, name="home"),
    path("builtins/", views.builtins, name="builtins"),
    path("forms/", views.forms, name="forms"),
    path("articles/", views.articles, name="articles"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("articles/<int:pk>/like/", views.like, name="like"),
    path("topics/", views.topics, name="topics"),
    path("background/", views.background, name="background"),
    path("download/hello.txt", views.download, name="download"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    # on in Redis mode only (settings.py); keep it off the public internet in a real site
    path("metrics/", metrics, name="metrics"),
]
