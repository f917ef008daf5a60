"""Declarations at the edges: annotations that resolve late, lambdas, a stopped server's loop."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import signal
from dfws_celery.errors import InvalidArgument
from dfws_celery.publisher import WarmLoop
from dfws_celery.registry import REGISTRY
from dfws_celery.validators import check_arguments

NAMES = itertools.count()
MODULE = """
from __future__ import annotations

def handler(window_info, count: int, later: Later = None):
    return count
"""


def declare_from_source():
    """A handler whose module names ``Later`` before defining it (a forward reference)."""
    namespace = {"__name__": "unit_lazy_module"}
    exec(MODULE, namespace)
    name = f"unit.lazy.{next(NAMES)}"
    signal("unit.lazy", name=name)(namespace["handler"])
    return REGISTRY.by_task_name[name], namespace


def test_one_late_annotation_does_not_switch_the_others_off(declared):
    connection, _ = declare_from_source()
    with pytest.raises(InvalidArgument, match="invalid argument 'count'"):
        check_arguments(connection, {"count": "not a number"})
    assert check_arguments(connection, {"count": "3"}) == {"count": 3}


def test_a_late_annotation_checks_once_its_module_defines_it(declared):
    connection, namespace = declare_from_source()
    with pytest.raises(InvalidArgument, match="invalid argument 'later'"):
        check_arguments(connection, {"count": 1, "later": "7"})  # refused while unknown
    namespace["Later"] = int
    assert check_arguments(connection, {"count": 1, "later": "7"}) == {"count": 1, "later": 7}
    with pytest.raises(InvalidArgument, match="invalid argument 'later'"):
        check_arguments(connection, {"count": 1, "later": "seven"})


def test_a_lambda_is_refused_at_declaration(declared):
    with pytest.raises(ImproperlyConfigured, match="a lambda cannot handle a dfws signal"):
        signal("unit.lambda", name="unit.lambda.task")(lambda window_info: 1)
    assert "unit.lambda.task" not in REGISTRY.by_task_name


def test_a_closed_adopted_loop_adopts_nothing():
    loop = WarmLoop()

    async def serve():
        loop.adopt_current()
        return loop.adopted

    assert asyncio.run(serve()) is True
    assert loop.adopted is False  # the server's loop is closed: frames are dropped, not sent
