"""dfws browser edge: middleware, websocket consumer, ASGI application, template tags."""

from dfws_web.windows import set_websocket_topics

__all__ = ["set_websocket_topics"]
