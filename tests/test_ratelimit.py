"""The token bucket spaces calls; measured with a fake clock, not wall time."""

from __future__ import annotations

import itertools
import threading
from types import SimpleNamespace

import pytest

from deployer.ratelimit import DEFAULT_RATE_LIMITS, RateLimit, RateLimiter, TokenBucket


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_burst_passes_then_calls_are_spaced_one_over_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=15.0, burst=3.0, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(9):
        bucket.acquire()
        times.append(clock.now - 100.0)
    assert times[:3] == [0.0, 0.0, 0.0]  # the burst
    gaps = [b - a for a, b in itertools.pairwise(times[2:])]
    assert gaps == pytest.approx([1 / 15] * 6)
    # 9 calls at 15/s with a burst of 3: the 9th leaves 6/15 s after the first.
    assert times[-1] == pytest.approx(6 / 15)


def test_idle_time_refills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=2.0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 60.0  # a long pause refills 2 tokens, not 120
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.5)


def test_concurrent_callers_queue_one_interval_apart() -> None:
    clock = FakeClock()
    waits: list[float] = []
    bucket = TokenBucket(rate=10.0, burst=1.0, clock=clock, sleep=lambda s: waits.append(s))
    threads = [threading.Thread(target=bucket.acquire) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Reserved under the lock: the clock never moved, so each caller waits one slot more.
    assert sorted(waits) == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_limiter_hook_per_service_and_region_with_exemptions() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        {"lambda": RateLimit(1.0, 1.0, frozenset({"GetFunction"}))},
        clock=clock,
        sleep=clock.sleep,
    )
    assert limiter.hook("s3", "us-east-1") is None
    east = limiter.hook("lambda", "us-east-1")
    west = limiter.hook("lambda", "eu-west-1")
    assert east is not None and west is not None
    create = SimpleNamespace(name="CreateFunction")
    east(model=create)
    west(model=create)  # its own bucket: no wait
    assert clock.now == 100.0
    east(model=SimpleNamespace(name="GetFunction"))  # exempt
    assert clock.now == 100.0
    east(model=create)
    assert clock.now == pytest.approx(101.0)
    assert limiter.waited() == {"lambda:eu-west-1": 0.0, "lambda:us-east-1": pytest.approx(1.0)}


def test_clients_register_the_default_limits(aws: None) -> None:
    from deployer.aws import Clients

    clients = Clients()
    assert clients.rate_limiter is not None
    assert clients.rate_limiter.limits == DEFAULT_RATE_LIMITS
    clients("lambda", "us-east-1").list_functions()
    assert "lambda:us-east-1" in clients.rate_limiter.waited()
    assert Clients(rate_limits=None).rate_limiter is None
