"""The processor chain and its two drivers."""

from __future__ import annotations

import asyncio

import pytest
from marshmallow import ValidationError

from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.data_handler._processing import (
    FILTER,
    NESTED,
    VALIDATOR,
    compile_steps,
    drive_async,
    drive_sync,
    run_chain,
)

META = {"name": "a", "received_data": {}, "request": None}


class AsyncNotZero(v.Validator):
    async def __call__(self, value, meta):
        await asyncio.sleep(0)
        return "Zero" if value == 0 else None


class AsyncIncrement(f.Filter):
    async def __call__(self, value):
        await asyncio.sleep(0)
        return value + 1


def run(steps, value, driver="sync"):
    errors = []
    gen = run_chain(compile_steps(steps), value, META, errors)
    if driver == "sync":
        result = drive_sync(gen)
    else:
        result = asyncio.run(drive_async(gen))
    return result, errors


def test_compile_classifies():
    steps = compile_steps([v.NotNull(), f.Cut(1), [v.Integer()], (f.Cut(2),)])
    assert [s[0] for s in steps] == [VALIDATOR, FILTER, NESTED, NESTED]


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_sync_and_async_processors_mix(driver):
    steps = [v.Integer(), f.ToIntegerObject(), AsyncNotZero(), AsyncIncrement(), v.Limit(max=5)]
    assert run(steps, "3", driver) == ((4, True), [])
    assert run(steps, "0", driver) == ((None, False), ["Zero"])
    assert run(steps, "5", driver) == ((None, False), ["Value limit error: max: 5"])


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_nested_async(driver):
    assert run([[AsyncIncrement()]], [1, 2], driver) == (([2, 3], True), [])
    assert run([[AsyncNotZero()]], [1, 0], driver) == ((None, False), ["Zero"])


def test_sync_driver_inside_a_running_loop():
    async def main():
        return run([AsyncIncrement()], 1, "sync")

    assert asyncio.run(main()) == ((2, True), [])


def test_validator_returning_a_list_of_messages():
    class Many(v.Validator):
        def __call__(self, value, meta):
            return ["one", "two"]

    assert run([Many()], 1)[1] == ["one", "two"]


def test_unexpected_exceptions_propagate():
    class Broken(f.Filter):
        def __call__(self, value):
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        run([Broken()], 1)

    class AsyncBroken(f.Filter):
        async def __call__(self, value):
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        run([AsyncBroken()], 1, "async")


def test_marshmallow_style_callable():
    def positive(value):
        if value <= 0:
            raise ValidationError("Must be positive")

    assert run([positive], 1) == ((1, True), [])
    assert run([positive], -1) == ((None, False), ["Must be positive"])
    assert run([positive], None) == ((None, True), [])


def _false_when_negative(value):
    return value >= 0


def _marshmallow_style(value):
    if value == "bad":
        raise ValidationError(["Bad value", "Really"])


#: (processors, value): the plain-loop twin must agree with the generator on each.
TWIN_CASES = [
    ([v.NotNull()], None),
    ([v.NotNull(), v.Length(max=3)], "long"),
    ([v.Length(max=3), f.ToStringObject()], "ok"),
    ([f.ToIntegerObject()], "12"),
    ([f.ToIntegerObject()], "twelve"),
    ([f.ToIntegerObject()], None),
    ([[f.ToIntegerObject(), v.NotNull()]], ["1", "2"]),
    ([[f.ToIntegerObject()]], ["1", "x"]),
    ([[f.ToIntegerObject()]], "not a list"),
    ([[f.ToIntegerObject()]], ""),
    ([_false_when_negative], -1),
    ([_false_when_negative], 1),
    ([_marshmallow_style], "bad"),
    ([_marshmallow_style, v.NotNull()], None),
]


@pytest.mark.parametrize(("processors", "value"), TWIN_CASES)
def test_plain_loop_twin_agrees_with_the_generator(processors, value):
    from framework.data_handler._processing import run_chain_sync

    steps = compile_steps(processors)
    twin_errors: list = []
    twin = run_chain_sync(steps, value, META, twin_errors)
    assert (twin, twin_errors) == run(processors, value)
