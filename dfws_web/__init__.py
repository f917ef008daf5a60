"""dfws browser edge: middleware, websocket consumer, ASGI application, template tags."""

from dfws_web.views import set_websocket_topics

__all__ = ["set_websocket_topics"]
