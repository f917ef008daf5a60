"""``fanout.send_now``: an ASGI send run to its end at once, or finished by a task if it waits."""

from __future__ import annotations

import asyncio

from dfws_web import fanout


def test_a_send_that_never_waits_is_done_when_send_now_returns():
    done: list[str] = []

    async def send() -> None:
        done.append("sent")

    async def scenario() -> list[str]:
        fanout.send_now(send())
        return list(done)  # nothing awaited in between

    assert asyncio.run(scenario()) == ["sent"]


def test_a_send_that_waits_is_finished_by_a_task_in_order():
    steps: list[str] = []

    async def send() -> None:
        steps.append("start")
        await asyncio.sleep(0)  # a bare yield
        loop = asyncio.get_running_loop()
        drained = loop.create_future()
        loop.call_later(0.01, drained.set_result, None)
        await drained  # back-pressure: the transport drains
        steps.append("end")

    async def scenario() -> tuple[list[str], list[str]]:
        fanout.send_now(send())
        now = list(steps)
        await asyncio.sleep(0.05)
        return now, list(steps)

    assert asyncio.run(scenario()) == (["start"], ["start", "end"])
    assert not fanout._finishing  # the task let go of


def test_a_failure_of_what_a_send_waits_for_is_raised_inside_the_send():
    seen: list[str] = []

    async def send() -> None:
        loop = asyncio.get_running_loop()
        broken = loop.create_future()
        loop.call_soon(broken.set_exception, ConnectionResetError("gone"))
        try:
            await broken
        except ConnectionResetError as exc:
            seen.append(str(exc))

    async def scenario() -> None:
        fanout.send_now(send())
        await asyncio.sleep(0.02)

    asyncio.run(scenario())
    assert seen == ["gone"]


def test_an_awaitable_that_is_no_coroutine_is_awaited_by_a_task():
    async def scenario() -> bool:
        future = asyncio.get_running_loop().create_future()
        fanout.send_now(future)
        future.set_result(None)
        await asyncio.sleep(0.01)
        return not fanout._finishing

    assert asyncio.run(scenario())


def test_a_send_that_fails_after_waiting_is_logged_once_and_a_gone_client_quietly(caplog):
    """Nobody awaits the finishing task: a client gone while its send waited (uvicorn raises
    ClientDisconnected, an OSError) is a DEBUG line, another failure an ERROR; never
    asyncio's "Task exception was never retrieved"."""

    def failing(exc: Exception):
        async def send() -> None:
            await asyncio.sleep(0)
            raise exc

        return send()

    async def scenario() -> None:
        fanout.send_now(failing(ConnectionResetError("client gone")))
        fanout.send_now(failing(RuntimeError("broken send")))
        await asyncio.sleep(0.02)

    caplog.set_level("DEBUG", logger="dfws")
    asyncio.run(scenario())
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("DEBUG", "fan-out: a send ended with its client gone (ConnectionResetError('client gone'))") in said
    assert [m for level, m in said if level == "ERROR"] == ["fan-out: a send failed"]
    assert not any("never retrieved" in m for _, m in said)
    assert not fanout._finishing
