"""The floor of a delivery: a raw asyncio ``websockets`` server fed by Redis Pub/Sub.

    python bench/floor.py PORT REDIS_URL CHANNEL

Every client that connects is a member; each message published on CHANNEL
is written, as it is (one pre-encoded frame), to every member with
``websockets.broadcast``; a heartbeat is echoed like dfws does.  Nothing a
framework adds — no per-window task, decoding, routing or ASGI — so its
CPU per delivery is what dfws's is compared with in S3.
"""

from __future__ import annotations

import asyncio
import sys

from redis import asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

HEARTBEAT = "--heartbeat--"


async def main(port: int, redis_url: str, channel: str) -> None:
    members: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        members.add(ws)
        try:
            async for text in ws:
                if text == HEARTBEAT:
                    await ws.send(HEARTBEAT)
        finally:
            members.discard(ws)

    client = aioredis.Redis.from_url(redis_url, socket_timeout=None)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
        print("listening", flush=True)
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(members, message["data"].decode())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
