from __future__ import annotations

from io import StringIO

from django.core.management import call_command


def run(name: str) -> str:
    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


def test_dfws_signals_lists_path_handler_task_queue_permission():
    lines = run("dfws_signals").splitlines()
    assert lines[0].split() == ["SIGNAL", "HANDLER", "TASK", "QUEUE", "ALLOWED"]
    slow = next(line for line in lines if line.startswith("tests.slow "))
    assert slow.split() == [
        "tests.slow", "tests.testapp.signals.slow", "tests.slow:tests.testapp.signals.slow",
        "slow", "everyone",
    ]  # fmt: skip
    server_only = next(line for line in lines if line.startswith("tests.server_only "))
    assert server_only.split()[-1] == "server_side"


def test_dfws_queues_prints_the_list_for_dash_q():
    assert run("dfws_queues").strip() == "celery,dynamic,idle,late,lonely,slow"


def test_settings_are_read_lazily(settings):
    settings.WEBSOCKET_DEFAULT_QUEUE = "main"
    assert run("dfws_queues").strip() == "main,celery,dynamic,idle,late,lonely,slow"
