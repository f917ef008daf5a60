"""``make bench``: dfws side by side with raw Celery, raw Channels and df-websockets 1.2.6."""
