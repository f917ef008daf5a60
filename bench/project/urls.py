from django.urls import path

from bench.project import views

urlpatterns = [path("", views.page), path("login/", views.logged_in_page)]
