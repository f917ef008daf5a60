from django.urls import path

from tests.testapp import views

urlpatterns = [
    path("", views.page, name="page"),
    path("article/<int:pk>/", views.article, name="article"),
    path("ajax/trigger/", views.ajax_trigger, name="ajax_trigger"),
    path("login/<str:username>/", views.login_as, name="login_as"),
]
