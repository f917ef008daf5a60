from django.http import HttpRequest, HttpResponse

from dfws_web import set_websocket_topics


def page(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return HttpResponse("<html><body>bench</body></html>")
