from django.urls import path

from oldsite import views

urlpatterns = [path("", views.page)]
