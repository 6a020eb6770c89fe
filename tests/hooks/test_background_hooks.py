"""Background hooks without a broker: queued to the process's worker thread however their
event fires (``execute_event``, awaited or not, the blinker signal, ``events.send``), the
event's other hooks run in the caller. Each test's project has its own worker thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from framework import events, signals
from framework.config import ImproperlyConfigured
from tests.liveserver import wait_until


@pytest.fixture
def heard(events_app):
    """(hook, argument, thread name) of every call of a 'welcomed' hook: one inline, one
    declared ``background=True``."""
    calls: list[tuple[str, str, str]] = []
    fw = events_app.fw

    @fw.event("welcomed")
    def inline_hook(name):
        calls.append(("inline", name, threading.current_thread().name))

    @fw.event("welcomed", background=True)
    async def background_hook(name):
        calls.append(("background", name, threading.current_thread().name))

    return calls


def calls_of(heard, hook):
    return [(name, thread) for kind, name, thread in heard if kind == hook]


def on_worker(heard, name):
    """Wait until the background hook ran for ``name`` on the worker thread."""
    wait_until(lambda: (name, "framework-background") in calls_of(heard, "background"), what=name)


def test_a_background_hook_is_queued_however_its_event_fires(events_app, heard):
    fw, caller = events_app.fw, threading.current_thread().name
    with events_app.app.app_context():
        fw.execute_event("welcomed", {"name": "called"})

        async def main():
            await fw.execute_event("welcomed", {"name": "awaited"})

        asyncio.run(main())
        signals.event("welcomed").send(fw, name="blinker")
        events.send(fw, signals.event("welcomed"), {"name": "send"})
    fired = ["called", "awaited", "blinker", "send"]
    assert [name for name, _ in calls_of(heard, "inline")] == fired  # at once, in the caller
    assert {thread for _, thread in calls_of(heard, "inline")} == {caller}
    for name in fired:
        on_worker(heard, name)
    assert len(calls_of(heard, "background")) == 4  # once each, never inline as well


def test_an_event_fired_in_the_background_queues_every_hook(events_app, heard):
    with events_app.app.app_context():
        events_app.fw.execute_event("welcomed", {"name": "later"}, background=True)
    wait_until(lambda: sorted(kind for kind, _, _ in heard) == ["background", "inline"], what="both hooks")
    assert {thread for _, _, thread in heard} == {"framework-background"}  # none in the caller


def test_arguments_that_cannot_travel_are_refused_before_any_hook_runs(events_app, heard):
    fw = events_app.fw
    with events_app.app.app_context():
        with pytest.raises(TypeError, match=r"event 'welcomed': argument 'name' is a bytes"):
            fw.execute_event("welcomed", {"name": b"ada"})
        with pytest.raises(TypeError, match=r"argument 'name' is a bytes"):
            fw.execute_event("welcomed", {"name": b"ada"}, background=True)
        fw.execute_event("welcomed", {"name": "after"})
    on_worker(heard, "after")
    assert sorted(heard) == [  # the refused firings ran and queued nothing
        ("background", "after", "framework-background"),
        ("inline", "after", threading.current_thread().name),
    ]


def test_the_framework_events_cannot_have_background_hooks(events_app):
    with pytest.raises(ImproperlyConfigured, match=r"the framework event 'request_start' cannot run"):
        events_app.fw.event("request_start", background=True)(lambda: None)
