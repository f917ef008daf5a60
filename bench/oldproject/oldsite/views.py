from df_websockets.tasks import set_websocket_topics
from django.http import HttpRequest, HttpResponse


def page(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return HttpResponse("<html><body>bench</body></html>")
