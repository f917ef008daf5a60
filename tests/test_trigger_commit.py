"""Trigger after commit on the real stack (issue 13): a view creates a row in
``transaction.atomic()``, triggers a handler that reads it and sleeps before committing;
the worker's handler finds the row.  On rollback nothing is sent at all."""

from __future__ import annotations

import json
import urllib.request
import uuid
from urllib.parse import urlencode

import pytest

from tests.conftest import wait_for_records
from tests.layer import deliveries

pytestmark = pytest.mark.django_db(transaction=True)


def create(server: str, **params: str) -> dict:
    with urllib.request.urlopen(
        f"{server}/create-and-trigger/?{urlencode(params)}", timeout=20
    ) as r:
        return json.loads(r.read())


def test_the_worker_finds_the_row_the_transaction_created(server, sink):
    title, topic = f"commit-{uuid.uuid4().hex[:8]}", f"commit-{uuid.uuid4().hex[:8]}"
    received = deliveries([topic], lambda: create(server, title=title, topic=topic, delay="1"))
    # the frame left after the commit too: it arrived within the second after the view
    assert [f["opts"]["title"] for f in received[topic]] == [title]
    (record,) = wait_for_records(sink, "read_article")
    assert record == {"name": "read_article", "title": title, "found": True}


def test_without_on_commit_the_worker_runs_before_the_commit(server, sink):
    """The race the default removes: on_commit=False, the handler runs while the view sleeps."""
    title, topic = f"now-{uuid.uuid4().hex[:8]}", f"now-{uuid.uuid4().hex[:8]}"
    create(server, title=title, topic=topic, delay="2", now="1")
    (record,) = wait_for_records(sink, "read_article")
    assert record["title"] == title and record["found"] is False


def test_a_rollback_sends_nothing(server, sink):
    title, topic = f"rollback-{uuid.uuid4().hex[:8]}", f"rollback-{uuid.uuid4().hex[:8]}"
    received = deliveries(
        [topic], lambda: create(server, title=title, topic=topic, delay="0.2", rollback="1"), 2
    )
    assert received[topic] == []
    # a later trigger that commits is handled: the rolled-back one never reached the queue
    create(server, title=f"{title}-after", topic=topic, delay="0")
    records = wait_for_records(sink, "read_article")
    assert [r["title"] for r in sink.read()] == [f"{title}-after"]
    assert records[0]["found"] is True
