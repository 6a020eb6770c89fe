"""Background work: event hooks run on a worker instead of in the request that fired them.

``execute_event(name, args, background=True)`` queues every hook of ``name`` and returns at
once; a hook declared ``@hooks.event(name, background=True)`` is queued whenever ``name``
fires (the event's other hooks still run inline). ``fire`` queues every hook,
``queue_hooks`` the background ones of any firing (``framework.events`` runs what it
leaves). Each queued hook is one job, so a hook that fails is retried on its own
(``[celery] max_retries``, ``retry_delay``) and never runs the hooks that succeeded a
second time; each failure and retry is logged with the event, the hook and the exception.

Where the jobs go:

- with a broker (``[celery] broker_url``, else ``[redis] url``) they are Celery tasks, run
  by ``framework worker`` processes (any number, on any machine) inside the project's app
  context, the database session removed after each;
- without one (the embedded default, one machine) a thread of the process that fired them
  runs them, in order, from a bounded queue (``[celery] queue_size``). When the queue is
  full the hook runs at once in the caller, a warning is logged, and nothing is lost;
  jobs still queued when the process exits are.

Arguments travel as JSON (Celery's serializer): they are checked when the event fires
(``check_args``) and anything else is refused there with a ``TypeError``/``ValueError``
naming the event and the argument, before anything is queued. The in-process queue passes
the hooks the same JSON copy, so a project behaves alike with and without a broker.
"""

from __future__ import annotations

import heapq
import importlib.util
import itertools
import json
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from . import _async, signals
from .config import ImproperlyConfigured, as_bool
from .logging import get_logger
from .redis_client import REDIS_SCHEMES, get_redis, redis_url

if TYPE_CHECKING:
    from .extension import Framework

__all__ = [
    "BUILTIN_EVENTS",
    "BackgroundSettings",
    "check_args",
    "init_background",
    "settings",
    "fire",
    "queue_hooks",
    "is_background",
    "check_hook",
    "hook_ids",
    "run_hook",
    "HookNotFound",
    "run_schedule",
    "celery_app",
    "beat_schedule",
    "run_worker",
    "run_beat",
    "worker_command",
    "beat_command",
]

LOGGER = get_logger("framework.background")

#: The framework's own events: their arguments are live objects, never sent to a worker.
BUILTIN_EVENTS = frozenset({"startup", "shutdown", "request_start", "request_end"})
#: The Celery task running one hook of one event.
HOOK_TASK = "framework.run_hook"
#: The Celery task beat sends for one period of a schedule.
SCHEDULE_TASK = "framework.run_schedule"
#: How deep arguments may nest (a cycle or a hostile structure stops here).
MAX_DEPTH = 64

_CONTEXT_KEY = "framework.background"
_SETTINGS_KEY = "framework.background.settings"
_CELERY_KEY = "framework.celery"
_GUARD_KEY = "framework.background.guard"
_lock = threading.Lock()

# --------------------------------------------------------------------------- settings

#: Celery settings ``[celery]`` passes through, with how to read each INI value.
PASS_THROUGH: dict[str, Any] = {
    "task_default_queue": str,
    "timezone": str,
    "task_acks_late": as_bool,
    "task_time_limit": float,
    "task_soft_time_limit": float,
    "worker_prefetch_multiplier": int,
}
_OWN_KEYS = ("broker_url", "max_retries", "retry_delay", "queue_size", "visibility_timeout")


@dataclass(frozen=True)
class BackgroundSettings:
    """``[celery]``, read and checked once per project."""

    broker_url: str | None = None
    max_retries: int = 3
    retry_delay: float = 10.0
    queue_size: int = 1000
    celery: dict[str, Any] = field(default_factory=dict)
    #: ``[redis] url`` is set but Celery is not installed: the work stays in the process.
    celery_missing: bool = False


def _number(section: Mapping[str, Any], key: str, kind: Any, default: Any, least: float) -> Any:
    raw = section.get(key)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = kind(str(raw).strip())
    except ValueError:
        raise ImproperlyConfigured(f"[celery] {key} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < least:
        raise ImproperlyConfigured(f"[celery] {key} must be at least {least:g}, got {raw!r}")
    return value


def read_settings(fw: Framework) -> BackgroundSettings:
    """``[celery]`` checked: a bad value raises ``ImproperlyConfigured`` naming the setting."""
    section = dict(fw.config.get("celery") or {})
    unknown = sorted(set(section) - set(_OWN_KEYS) - set(PASS_THROUGH))
    if unknown:
        known = ", ".join(_OWN_KEYS + tuple(PASS_THROUGH))
        raise ImproperlyConfigured(f"[celery] {unknown[0]} is not a setting here (known: {known})")
    broker = str(section.get("broker_url") or "").strip() or None
    setting = "[celery] broker_url"
    if broker is None:
        broker, setting = redis_url(fw), "[redis] url"
    elif "://" not in broker:
        raise ImproperlyConfigured(f"[celery] broker_url must be a URL (redis://host:6379/0), got {broker!r}")
    celery: dict[str, Any] = {}
    for key, kind in PASS_THROUGH.items():
        if str(section.get(key) or "").strip():
            try:
                celery[key] = kind(str(section[key]).strip())
            except ValueError as exc:
                raise ImproperlyConfigured(f"[celery] {key}: {exc}") from None
    visibility = _number(section, "visibility_timeout", float, None, 1)
    if visibility is not None:
        celery["broker_transport_options"] = {"visibility_timeout": visibility}
    celery_missing = broker is not None and importlib.util.find_spec("celery") is None
    if celery_missing and setting == "[celery] broker_url":
        raise ImproperlyConfigured(
            "[celery] broker_url is set but Celery is not installed: pip install 'framework[celery]'"
        )
    if celery_missing:  # Redis for the rate limits and the cache only: work stays in the process
        broker = None
    return BackgroundSettings(
        celery_missing=celery_missing,
        broker_url=broker,
        max_retries=_number(section, "max_retries", int, 3, 0),
        retry_delay=_number(section, "retry_delay", float, 10.0, 0),
        queue_size=_number(section, "queue_size", int, 1000, 1),
        celery=celery,
    )


def init_background(fw: Framework) -> None:
    """Read ``[celery]`` at start-up (called by ``Framework.init_app``)."""
    fw.context[_SETTINGS_KEY] = read_settings(fw)


def settings(fw: Framework) -> BackgroundSettings:
    """The project's background settings (read at start-up)."""
    found = fw.context.get(_SETTINGS_KEY)
    if found is None:
        found = fw.context[_SETTINGS_KEY] = read_settings(fw)
    return found


# --------------------------------------------------------------------------- arguments

_ALLOWED = "str, int, float, bool, None, and lists and dicts (with str keys) of these"


def check_args(event: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The event's arguments as a worker receives them (a JSON round trip), or a
    ``TypeError``/``ValueError`` naming the event and the argument that cannot travel."""
    for key, value in args.items():
        if not isinstance(key, str):
            raise TypeError(f"event {event!r}: argument names must be str, got {key!r}")
        _check_value(event, key, value, 0)
    return json.loads(json.dumps(args))


def _check_value(event: str, path: str, value: Any, depth: int) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"event {event!r}: argument {path!r} is {value!r}, which JSON cannot carry")
        return
    if depth >= MAX_DEPTH:
        raise ValueError(f"event {event!r}: argument {path!r} nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_value(event, f"{path}[{index}]", item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"event {event!r}: argument {path!r} has the key {key!r}: a background "
                    "event's dicts need str keys"
                )
            _check_value(event, f"{path}[{key!r}]", item, depth + 1)
        return
    raise TypeError(
        f"event {event!r}: argument {path!r} is a {type(value).__name__}, which cannot be sent "
        f"to a background worker (JSON only: {_ALLOWED}); send an id or a plain value instead"
    )


# --------------------------------------------------------------------------- hooks


def _receiver_func(receiver: Any) -> Any:
    from .events import HookReceiver

    return receiver.func if type(receiver) is HookReceiver else receiver


def hook_ids(receivers: Iterable[Any]) -> list[tuple[str, Any]]:
    """(id, receiver) for an event's receivers: the id is the function's
    ``module.qualname``, with ``#2``, ``#3``... for later ones of the same name. The app and
    its workers load the same code, so an id names the same hook on both."""
    seen: dict[str, int] = {}
    result = []
    for receiver in receivers:
        func = _receiver_func(receiver)
        base = getattr(func, "__qualname__", None) or type(func).__qualname__
        module = getattr(func, "__module__", None)
        base = f"{module}.{base}" if module else base
        count = seen[base] = seen.get(base, 0) + 1
        result.append((base if count == 1 else f"{base}#{count}", receiver))
    return result


def is_background(receiver: Any) -> bool:
    """Whether ``receiver`` always runs on a worker (a hook declared ``background=True``)."""
    return bool(getattr(receiver, "background", False))


def check_hook(event: str, func: Any) -> None:
    """Refuse a background hook for one of the framework's own events (their arguments
    are live objects): ``ImproperlyConfigured`` naming the hook."""
    if event in BUILTIN_EVENTS:
        name = f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', func)}"
        raise ImproperlyConfigured(
            f"hook {name}: the framework event {event!r} cannot run in the background; "
            "fire a custom event from it with execute_event(..., background=True)"
        )


def queue_hooks(
    fw: Framework, event: str, args: Mapping[str, Any], receivers: Iterable[Any]
) -> Iterable[Any]:
    """The one place that decides, for one firing of ``event``, which of ``receivers`` run
    on a worker: the hooks declared ``background=True``. Those are queued now; the others
    are returned, in order, for the caller to run. The arguments are checked before
    anything is queued (or run): ``TypeError``/``ValueError`` naming the one that cannot
    travel. (``fire`` queues every hook: ``execute_event(..., background=True)``.)"""
    if event in BUILTIN_EVENTS:  # no background hooks (``check_hook``); fired per request
        return receivers
    inline = list(receivers)
    queued = [receiver for receiver in inline if is_background(receiver)]
    if not queued:
        return inline
    _queue(fw, event, check_args(event, args), queued)
    return [receiver for receiver in inline if not is_background(receiver)]


def fire(fw: Framework, event: str, args: Mapping[str, Any]) -> int:
    """Queue every hook of ``event`` with ``args`` (``execute_event(..., background=True)``,
    a schedule's period); the number queued. An argument that cannot travel raises
    before anything is queued (see ``check_args``)."""
    payload = check_args(event, args)
    return _queue(fw, event, payload, list(signals.event(event).receivers_for(fw)))


def _queue(fw: Framework, event: str, payload: dict[str, Any], receivers: list[Any]) -> int:
    """Submit one job per receiver, each named by its id among the event's hooks."""
    hooks = [
        hook
        for hook, receiver in hook_ids(signals.event(event).receivers_for(fw))
        if any(receiver is chosen for chosen in receivers)
    ]
    if hooks:
        dispatcher(fw).submit(event, hooks, payload)
    return len(hooks)


class HookNotFound(LookupError):
    """A job names a hook this process does not have (its code differs from the sender's):
    logged and dropped, never retried. A ``LookupError`` the hook itself raises (a
    ``KeyError``...) is a failure like any other."""


def run_hook(fw: Framework, event: str, hook: str, args: Mapping[str, Any]) -> None:
    """Run the hook ``hook`` of ``event`` with ``args`` in a fresh app context of ``fw`` (its
    database session removed afterwards); its exception propagates, ``HookNotFound`` when
    there is no such hook here."""
    found = [r for hook_id, r in hook_ids(signals.event(event).receivers_for(fw)) if hook_id == hook]
    if not found:
        raise HookNotFound(f"no hook {hook} for event {event!r} here (is the worker's code current?)")
    receiver = found[0]
    from .events import HookReceiver

    app = fw.app
    assert app is not None, "the project is installed on a Flask app"
    with app.app_context():
        if type(receiver) is HookReceiver:
            _async.call(receiver.func, **args)
        else:  # a plain blinker receiver: the sender first, as blinker calls it
            _async.call(receiver, fw, **args)


class _Dispatcher:
    pid: int

    def submit(self, event: str, hooks: list[str], payload: dict[str, Any]) -> None:
        raise NotImplementedError


def dispatcher(fw: Framework) -> _Dispatcher:
    """Where this process queues jobs: Celery with a broker, else its local worker thread."""
    current = fw.context.get(_CONTEXT_KEY)
    pid = os.getpid()
    if current is not None and current.pid == pid:
        return current
    with _lock:
        current = fw.context.get(_CONTEXT_KEY)
        if current is None or current.pid != pid:  # none yet, or made before a fork
            conf = settings(fw)
            if conf.celery_missing:
                LOGGER.warning(
                    "[redis] url is set but Celery is not installed: background work runs in "
                    "this process (pip install 'framework[celery]' and run framework worker)"
                )
            current = _CeleryDispatcher(celery_app(fw)) if conf.broker_url else _LocalWorker(fw, conf)
            fw.context[_CONTEXT_KEY] = current
        return current


class _CeleryDispatcher(_Dispatcher):
    """Publishes one ``framework.run_hook`` task per hook."""

    def __init__(self, capp: Any) -> None:
        self.pid = os.getpid()
        self.capp = capp

    def submit(self, event: str, hooks: list[str], payload: dict[str, Any]) -> None:
        for hook in hooks:
            self.capp.send_task(HOOK_TASK, kwargs={"event": event, "hook": hook, "args": payload})


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event: str = field(compare=False)
    hook: str = field(compare=False)
    args: dict[str, Any] = field(compare=False)
    attempt: int = field(compare=False, default=0)


class _LocalWorker(_Dispatcher):
    """One daemon thread running jobs from a bounded queue, retries delayed in place."""

    def __init__(self, fw: Framework, conf: BackgroundSettings) -> None:
        self.pid = os.getpid()
        self.fw = fw
        self.conf = conf
        self._jobs: list[_Job] = []  # a heap ordered by due time
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, event: str, hooks: list[str], payload: dict[str, Any]) -> None:
        for hook in hooks:
            job = _Job(time.monotonic(), next(self._seq), event, hook, payload)
            if not self._put(job):
                LOGGER.warning(
                    "background queue full (%d jobs, [celery] queue_size): hook %s for event %r "
                    "runs now in the caller",
                    self.conf.queue_size,
                    hook,
                    event,
                )
                self._attempt(job, retry=False)

    def _put(self, job: _Job) -> bool:
        with self._cond:
            if len(self._jobs) >= self.conf.queue_size:
                return False
            heapq.heappush(self._jobs, job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="framework-background", daemon=True)
                self._thread.start()
            self._cond.notify()
            return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._jobs or self._jobs[0].due > time.monotonic():
                    self._cond.wait(self._jobs[0].due - time.monotonic() if self._jobs else None)
                job = heapq.heappop(self._jobs)
            self._attempt(job, retry=True)

    def _attempt(self, job: _Job, retry: bool) -> None:
        try:
            run_hook(self.fw, job.event, job.hook, job.args)
        except HookNotFound:
            LOGGER.exception("background hook %s for event %r not run", job.hook, job.event)
        except Exception as exc:
            attempts = job.attempt + 1
            if retry and job.attempt < self.conf.max_retries:
                _log_retry(job.event, job.hook, exc, attempts, self.conf)
                job.attempt, job.due = attempts, time.monotonic() + self.conf.retry_delay
                job.seq = next(self._seq)
                if self._put(job):
                    return
                LOGGER.error("background queue full: no retry of hook %s for event %r", job.hook, job.event)
            _log_failure(job.event, job.hook, attempts, exc)


def _log_retry(event: str, hook: str, exc: BaseException, attempts: int, conf: BackgroundSettings) -> None:
    LOGGER.warning(
        "background hook %s for event %r failed (attempt %d of %d): %s: %s; retrying in %gs",
        hook,
        event,
        attempts,
        conf.max_retries + 1,
        type(exc).__name__,
        exc,
        conf.retry_delay,
    )


def _log_failure(event: str, hook: str, attempts: int, exc: BaseException, traceback: bool = True) -> None:
    """Log ``exc`` as the hook's final failure (its traceback, unless Celery logs it next)."""
    LOGGER.error(
        "background hook %s for event %r failed after %d attempt(s): %s: %s",
        hook,
        event,
        attempts,
        type(exc).__name__,
        exc,
        exc_info=exc if traceback else None,
    )


# --------------------------------------------------------------------------- Celery


def celery_app(fw: Framework) -> Any:
    """The project's Celery application (made once per project and process: its broker
    connections are never shared with a forked child), with the two tasks a worker runs;
    ``ImproperlyConfigured`` without a broker."""
    made = fw.context.get(_CELERY_KEY)
    if made is not None and made[0] == os.getpid():
        return made[1]
    conf = settings(fw)
    if conf.celery_missing:
        raise ImproperlyConfigured("Celery is not installed: pip install 'framework[celery]'")
    if conf.broker_url is None:
        raise ImproperlyConfigured(
            "background workers need a broker: set [celery] broker_url or [redis] url "
            "(without one, background work runs in the web process itself)"
        )
    from celery import Celery

    assert fw.app is not None
    capp = Celery(fw.app.name, broker=conf.broker_url, set_as_current=False)
    capp.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        **conf.celery,
    )

    @capp.task(name=HOOK_TASK, bind=True, ignore_result=True, shared=False)
    def run_hook_task(task: Any, event: str, hook: str, args: dict[str, Any]) -> None:
        fw.startup()  # once per worker process, as before a web process's first request
        try:
            run_hook(fw, event, hook, args)
        except HookNotFound:
            LOGGER.exception("background hook %s for event %r not run", hook, event)
        except Exception as exc:
            attempts = task.request.retries + 1
            if task.request.retries < conf.max_retries:
                _log_retry(event, hook, exc, attempts, conf)
                raise task.retry(exc=exc, countdown=conf.retry_delay, max_retries=conf.max_retries) from None
            _log_failure(event, hook, attempts, exc, traceback=False)  # Celery logs it, with the traceback
            raise

    @capp.task(name=SCHEDULE_TASK, ignore_result=True, shared=False)
    def run_schedule_task(schedule: str, event: str, args: dict[str, Any], period: int, ttl: int) -> None:
        fw.startup()
        run_schedule(fw, schedule, event, args, period, ttl)

    fw.context[_CELERY_KEY] = (os.getpid(), capp)
    return capp


def _guard(fw: Framework) -> Any:
    """The Redis client holding the schedules' once-per-period keys: ``[redis] url``, else
    the broker when it is Redis; ``ImproperlyConfigured`` otherwise."""
    client = get_redis(fw)
    if client is not None:
        return client
    client = fw.context.get(_GUARD_KEY)
    if client is not None:
        return client
    url = settings(fw).broker_url or ""
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ImproperlyConfigured(
            "schedules need Redis for their once-per-period guard: set [redis] url "
            "(the broker in [celery] broker_url is not Redis)"
        )
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    fw.context[_GUARD_KEY] = client
    return client


def run_schedule(
    fw: Framework, schedule: str, event: str, args: Mapping[str, Any], period: int, ttl: int
) -> bool:
    """Fire ``event`` in the background for the period of ``schedule`` starting at
    ``period`` (Unix seconds), unless that period has run already; True when it fired."""
    assert fw.app is not None
    key = f"framework:schedule:{fw.app.name}:{schedule}:{period}"
    if not _guard(fw).set(key, os.getpid(), nx=True, ex=ttl):
        LOGGER.info("schedule %r: the period starting at %d has run already", schedule, period)
        return False
    queued = fire(fw, event, args)
    LOGGER.info(
        "schedule %r: event %r fired for the period from %d (%d hooks)", schedule, event, period, queued
    )
    return True


def beat_schedule(fw: Framework) -> dict[str, Any]:
    """Celery's ``beat_schedule`` for the schedules of the project's active apps."""
    from celery.beat import BeatLazyFunc

    from .schedule import period_start

    entries: dict[str, Any] = {}
    for package, installed in fw.apps.items():
        for item in installed.app.schedules:
            if item.name in entries:
                raise ImproperlyConfigured(f"app {package!r}: the schedule {item.name!r} is declared twice")
            length = item.every or 60.0
            entries[item.name] = {
                "task": SCHEDULE_TASK,
                "schedule": item.celery_schedule(),
                "kwargs": {
                    "schedule": item.name,
                    "event": item.event,
                    "args": item.args,
                    "period": BeatLazyFunc(period_start, length),
                    "ttl": int(max(2 * length, 3600)),
                },
            }
    return entries


def _celery_logs() -> None:
    """Once Celery has set up its logging, the framework's records go through it (its
    format, its ``--logfile``), written once."""
    from celery.signals import after_setup_logger

    from .logging import write_through_root

    after_setup_logger.connect(lambda **_: write_through_root(), weak=False)


def run_worker(fw: Framework, argv: list[str]) -> None:
    """``celery worker`` for the project with the command-line options ``argv``."""
    capp = celery_app(fw)
    _celery_logs()
    capp.worker_main(["worker", *argv])


def run_beat(fw: Framework, argv: list[str]) -> None:
    """``celery beat`` for the project's schedules with the command-line options ``argv``
    (its state file goes to the instance folder unless ``--schedule`` is given)."""
    capp = celery_app(fw)
    entries = beat_schedule(fw)
    if entries:
        _guard(fw)
    else:  # a deployment's beat may come before the project's first schedule: it idles
        LOGGER.warning("no active app declares schedules (App(schedules=[...])): beat has nothing to send")
    capp.conf.beat_schedule = entries
    _celery_logs()
    if not any(arg in ("-s", "--schedule") or arg.startswith("--schedule=") for arg in argv):
        assert fw.app is not None
        os.makedirs(fw.app.instance_path, exist_ok=True)
        argv = [*argv, f"--schedule={os.path.join(fw.app.instance_path, 'celerybeat-schedule')}"]
    capp.start(["beat", *argv])


#: Options after the command name go to Celery untouched (``framework worker --pool=solo``).
CELERY_OPTIONS: dict[str, Any] = {
    "ignore_unknown_options": True,
    "allow_extra_args": True,
    "help_option_names": [],
}


@click.command("worker", context_settings=CELERY_OPTIONS)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker_command(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker for the project's background hooks (options: celery worker's)."""
    run_worker(current_app.extensions["framework"], list(celery_args))


@click.command("beat", context_settings=CELERY_OPTIONS)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def beat_command(celery_args: tuple[str, ...]) -> None:
    """Run Celery beat, sending the periods of the apps' schedules (options: celery beat's)."""
    run_beat(current_app.extensions["framework"], list(celery_args))
