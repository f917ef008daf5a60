"""Issue 11, hostile numbers and booleans: what an annotation refuses is ``invalid_argument``.

JSON ``true`` is a Python ``bool``, an ``int``: without a check it reaches an
``int``/``float`` argument as ``1``.  An annotation raising an
``ArithmeticError`` (``int(float("inf"))``, ``Decimal("x")``, ``1 / 0``) is
the value's fault, not the handler's: it must not become a
``handler_exception`` with an ERROR traceback.
"""

from __future__ import annotations

import decimal
import itertools
import logging

import pytest

from dfws_celery import WindowInfo, everyone, signal
from dfws_celery.errors import InvalidArgument
from dfws_celery.executor import run_handler
from dfws_celery.registry import REGISTRY
from dfws_celery.relay import describe_error
from dfws_celery.validators import check_arguments

TASK_NUMBERS = itertools.count()


def declare(function):
    name = f"unit.hardening.val.{next(TASK_NUMBERS)}"  # Celery keeps forgotten declarations
    signal("unit.hardening.val", name=name, is_allowed_to=everyone)(function)
    return REGISTRY.by_task_name[name]


def int_of_float(value):
    return int(float(value))  # "inf" -> OverflowError


def inverse(value):
    return 1 / value  # 0 -> ZeroDivisionError


@pytest.fixture
def numbers(declared):
    def handler(
        window_info,
        whole: int = 0,
        ratio: float = 0.0,
        big: int_of_float = 0,
        amount: decimal.Decimal = decimal.Decimal(0),
        share: inverse = 1.0,
        flag: bool = False,
        raw=None,
    ):
        return whole

    return declare(handler)


@pytest.mark.parametrize("name", ["whole", "ratio"])
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_not_numbers(numbers, name, value):
    with pytest.raises(InvalidArgument) as info:
        check_arguments(numbers, {name: value})
    assert info.value.argument == name
    assert describe_error(info.value) == {
        "type": "invalid_argument",
        "message": f"invalid argument {name!r}",
        "argument": name,
    }
    assert "boolean" in str(info.value)  # the log says why


def test_numbers_and_other_booleans_still_pass(numbers):
    assert check_arguments(numbers, {"whole": 3, "ratio": 1.5, "flag": True, "raw": False}) == {
        "whole": 3, "ratio": 1.5, "flag": True, "raw": False,
    }  # fmt: skip
    assert check_arguments(numbers, {"whole": "4", "ratio": 2})["whole"] == 4


@pytest.mark.parametrize(
    ("name", "value", "cause"),
    [
        ("big", "inf", OverflowError),
        ("big", "-1e999", OverflowError),
        ("amount", "not a number", decimal.InvalidOperation),
        ("share", 0, ZeroDivisionError),
    ],
)
def test_arithmetic_errors_of_an_annotation_are_invalid_arguments(numbers, name, value, cause):
    with pytest.raises(InvalidArgument) as info:
        check_arguments(numbers, {name: value})
    assert info.value.argument == name
    assert isinstance(info.value.__cause__, cause)
    assert describe_error(info.value)["type"] == "invalid_argument"


def test_an_overflow_is_a_warning_not_a_handler_traceback(numbers, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InvalidArgument):
        run_handler(numbers, WindowInfo(), {"big": "inf"}, from_client=True)
    records = [r for r in caplog.records if r.name == "dfws.signals"]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert "invalid argument 'big'" in records[0].getMessage()
    assert not any(r.levelno >= logging.ERROR or r.exc_info for r in caplog.records)
