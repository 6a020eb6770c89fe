"""Declaring background work: ``Schedule``, ``App(schedules=...)``, ``[celery]`` and the
hooks that may run in the background (no worker runs here: tests/scale/test_background.py
starts one)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from framework import Schedule
from framework.app import App
from framework.background import beat_schedule, check_args, hook_ids, settings
from framework.config import ImproperlyConfigured
from framework.schedule import period_start

ROUTES = "from framework.router import Routes\nroutes = Routes()\n"


def test_a_schedule_takes_seconds_or_a_timedelta_or_a_crontab():
    assert Schedule("cleanup", every=timedelta(minutes=5)).every == 300.0
    assert Schedule("cleanup", every=90, args={"days": 30}).args == {"days": 30}
    assert Schedule("report", cron="0  6 * * mon").cron == "0 6 * * mon"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, TypeError, "exactly one of every= or cron="),
        ({"every": 5, "cron": "* * * * *"}, TypeError, "exactly one of every= or cron="),
        ({"every": 0.5}, ValueError, "at least 1 second"),
        ({"every": float("inf")}, ValueError, "at least 1 second"),
        ({"every": "5"}, TypeError, "seconds or a timedelta"),
        ({"cron": "* * *"}, ValueError, "five fields"),
        ({"cron": "99 * * * *"}, ValueError, "is no crontab"),
        ({"every": 5, "args": {"when": object()}}, TypeError, "argument 'when' is a object"),
    ],
)
def test_a_bad_schedule_is_refused_where_it_is_written(kwargs, error, message):
    with pytest.raises(error, match=message):
        Schedule("cleanup", **kwargs)


def test_framework_events_cannot_be_scheduled_and_apps_take_only_schedules():
    with pytest.raises(ValueError, match="'startup' is a framework event"):
        Schedule("startup", every=5)
    with pytest.raises(TypeError, match="expected Schedule objects"):
        App(schedules=["cleanup"])  # type: ignore[list-item]


def test_period_start_rounds_down_to_the_period():
    assert period_start(60, now=125.9) == 120
    assert period_start(60, now=120.0) == 120
    assert period_start(3600, now=7199) == 3600


def test_arguments_are_handed_over_as_a_worker_sees_them():
    assert check_args("e", {"ids": (1, 2), "meta": {"ok": True, "ratio": 0.5, "none": None}}) == {
        "ids": [1, 2],
        "meta": {"ok": True, "ratio": 0.5, "none": None},
    }
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nests deeper than 64 levels"):
        check_args("e", {"deep": deep})


def test_celery_settings_are_read_and_checked(make_route_app):
    app = make_route_app(
        ROUTES,
        config_extra="[celery]\nbroker_url = redis://127.0.0.1:1/5\nmax_retries = 0\nretry_delay = 2.5\n"
        "task_default_queue = shop\ntask_acks_late = yes\nvisibility_timeout = 600\n",
    )
    conf = settings(app.extensions["framework"])
    assert (conf.broker_url, conf.max_retries, conf.retry_delay) == ("redis://127.0.0.1:1/5", 0, 2.5)
    assert conf.celery == {
        "task_default_queue": "shop",
        "task_acks_late": True,
        "broker_transport_options": {"visibility_timeout": 600.0},
    }


def test_the_redis_url_is_the_broker_when_celery_names_none(make_route_app):
    app = make_route_app(ROUTES, config_extra="[redis]\nurl = redis://127.0.0.1:1/2\n")
    conf = settings(app.extensions["framework"])
    assert conf.broker_url == "redis://127.0.0.1:1/2"


def test_without_a_broker_background_work_stays_in_the_process(make_route_app):
    app = make_route_app(ROUTES)
    assert settings(app.extensions["framework"]).broker_url is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("max_retries = -1", r"\[celery\] max_retries must be at least 0"),
        ("retry_delay = soon", r"\[celery\] retry_delay must be a number"),
        ("queue_size = 0", r"\[celery\] queue_size must be at least 1"),
        ("broker_url = localhost", r"\[celery\] broker_url must be a URL"),
        ("max_retrys = 3", r"\[celery\] max_retrys is not a setting here"),
        ("task_acks_late = perhaps", r"\[celery\] task_acks_late: not a boolean"),
    ],
)
def test_a_bad_celery_setting_stops_start_up_naming_it(make_route_app, extra, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        make_route_app(ROUTES, config_extra=f"[celery]\n{extra}\n")


def test_a_framework_event_cannot_have_a_background_hook(make_route_app):
    main_extra = (
        "from framework.hook import Hooks\nhooks = Hooks()\n"
        "@hooks.event('request_end', background=True)\ndef late(request, response):\n    pass\n"
    )
    with pytest.raises(
        ImproperlyConfigured, match="framework event 'request_end' cannot run in the background"
    ):
        make_route_app(ROUTES, main_extra=main_extra, hooks="[hooks]")


def test_hooks_are_named_by_module_and_name_in_the_order_they_run():
    def mail():
        pass

    def other():
        pass

    named = [name for name, _ in hook_ids([mail, other, mail])]
    prefix = f"{__name__}.test_hooks_are_named_by_module_and_name_in_the_order_they_run.<locals>"
    assert named == [f"{prefix}.mail", f"{prefix}.other", f"{prefix}.mail#2"]


def test_beat_gets_one_entry_per_schedule_of_the_active_apps(make_route_app):
    main_extra = "from framework import Schedule\n"
    app = make_route_app(
        ROUTES,
        main_extra=main_extra,
        schedules="[Schedule('tick', every=30, args={'n': 1}), Schedule('report', cron='0 6 * * *')]",
    )
    entries = beat_schedule(app.extensions["framework"])
    assert sorted(entries) == ["report cron 0 6 * * *", "tick every 30s"]
    tick = entries["tick every 30s"]
    assert tick["task"] == "framework.run_schedule"
    assert tick["kwargs"]["event"] == "tick" and tick["kwargs"]["args"] == {"n": 1}
    assert tick["kwargs"]["ttl"] == 3600
    assert tick["kwargs"]["period"]() % 30 == 0  # worked out when beat sends it


def test_the_same_schedule_twice_is_refused_by_beat(make_route_app):
    app = make_route_app(
        ROUTES, main_extra="from framework import Schedule\n", schedules="[Schedule('tick', every=30)] * 2"
    )
    with pytest.raises(ImproperlyConfigured, match="the schedule 'tick every 30s' is declared twice"):
        beat_schedule(app.extensions["framework"])


def test_worker_and_beat_without_a_broker_stop_with_one_line_naming_the_settings(
    make_route_app, project, monkeypatch
):
    from click.testing import CliRunner

    from framework.console import main

    app = make_route_app(ROUTES)
    assert {"worker", "beat"} <= set(app.cli.commands)  # flask worker, flask beat too
    monkeypatch.chdir(project.root)
    for command in ("worker", "beat"):
        result = CliRunner().invoke(main, [command, "--pool=solo"])
        assert result.exit_code == 1, result.output
        assert result.output.strip().splitlines() == [
            "Error: background workers need a broker: set [celery] broker_url or [redis] url "
            "(without one, background work runs in the web process itself)"
        ]


def test_without_celery_a_redis_url_keeps_the_work_in_the_process_a_broker_url_stops(
    make_route_app, monkeypatch
):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "celery" else real(name, *a)
    )
    app = make_route_app(ROUTES, config_extra="[redis]\nurl = redis://127.0.0.1:1/2\n")
    conf = settings(app.extensions["framework"])
    assert conf.broker_url is None and conf.celery_missing
    with pytest.raises(
        ImproperlyConfigured, match=r"\[celery\] broker_url is set but Celery is not installed"
    ):
        make_route_app(ROUTES, config_extra="[celery]\nbroker_url = redis://127.0.0.1:1/2\n")
