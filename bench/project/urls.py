from django.urls import path

from bench.project import views

urlpatterns = [path("", views.page)]
