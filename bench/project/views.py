from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse

from dfws_web import set_websocket_topics


def page(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return HttpResponse("<html><body>bench</body></html>")


def logged_in_page(request: HttpRequest) -> HttpResponse:
    """A page of a logged-in user: its socket's connect checks the session and the user."""
    user, _ = get_user_model().objects.get_or_create(username="bench")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return page(request)
