"""Waiting: polling (with consecutive answers), retries while in use, deleting until gone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deployer.errors import DeployerError, NotFound
from deployer.waiting import delete_and_wait_gone, delete_when_released, poll, wait_gone


def answers(*values: Any) -> Callable[[], Any]:
    """A check returning `values` in turn (then the last one forever), counting its calls."""
    seen: list[Any] = []

    def check() -> Any:
        value = values[min(len(seen), len(values) - 1)]
        seen.append(value)
        return value

    check.calls = seen  # type: ignore[attr-defined]
    return check


def test_poll_returns_the_first_answer() -> None:
    check = answers(None, None, "ready")
    assert poll(check, what="x", timeout=5, delay=0.01) == "ready"
    assert len(check.calls) == 3  # type: ignore[attr-defined]


def test_poll_waits_for_consecutive_answers() -> None:
    check = answers("a", None, "b", None, "c", "d", "e")
    assert poll(check, what="x", timeout=5, delay=0.01, consecutive=3) == "e"
    assert len(check.calls) == 7  # type: ignore[attr-defined]


def test_poll_times_out_naming_what_it_waited_for() -> None:
    with pytest.raises(DeployerError, match="waiting for the widget"):
        poll(lambda: None, what="the widget", timeout=0.05, delay=0.01)


def in_use_error(clients: Any) -> Exception:
    """A real `DependencyViolation` from the emulator: a VPC that still has a subnet."""
    ec2 = clients("ec2", "us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")
    try:
        ec2.delete_vpc(VpcId=vpc)
    except Exception as exc:
        return exc
    raise AssertionError("the emulator deleted a VPC with a subnet")


def test_delete_when_released_retries_while_in_use(clients: Any) -> None:
    busy = in_use_error(clients)
    attempts: list[int] = []

    def delete() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise busy

    delete_when_released(delete, what="the VPC", timeout=10)
    assert len(attempts) == 3


def test_delete_when_released_gives_up_with_the_last_error(clients: Any) -> None:
    busy = in_use_error(clients)

    def delete() -> None:
        raise busy

    with pytest.raises(DeployerError, match=r"the VPC to be released.*DependencyViolation"):
        delete_when_released(delete, what="the VPC", timeout=0.01)


def test_delete_and_wait_gone_against_the_emulator(clients: Any) -> None:
    logs = clients("logs", "us-east-1")
    logs.create_log_group(logGroupName="going")

    def read() -> Any:
        groups = logs.describe_log_groups(logGroupNamePrefix="going")["logGroups"]
        return groups or None

    delete = lambda: logs.delete_log_group(logGroupName="going")  # noqa: E731
    delete_and_wait_gone(delete, read, what="the group", timeout=5, delay=0.01)
    assert read() is None
    delete_and_wait_gone(delete, read, what="the group", timeout=5, delay=0.01)  # already gone


def test_wait_gone_takes_not_found_as_gone(clients: Any) -> None:
    kms = clients("kms", "us-east-1")
    with pytest.raises(NotFound):
        kms.describe_key(KeyId="alias/none")
    wait_gone(lambda: kms.describe_key(KeyId="alias/none"), what="k", timeout=1, delay=0.01)
