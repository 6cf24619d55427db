"""Client-side rate limits per (service, region): a token bucket as a botocore `before-call` hook.

AWS throttles each account's control-plane calls per service and region; going over the limit
only buys throttling errors and backoff. The limiter spaces calls before they leave, so that a
parallel apply stays under the published quota instead of bouncing off it. Each bucket holds
`burst` tokens, refilled at `rate` per second; a call takes one token, waiting if none is left.

Defaults (`DEFAULT_RATE_LIMITS`), from AWS's published quotas where known:

- Lambda: "Rate of control plane API requests (excludes invocation, GetFunction, and GetPolicy
  requests): 15 requests per second"
  (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). GetFunction and
  GetPolicy have their own, higher limit (100/s) and are exempt here.
- EC2: token buckets documented per action class
  (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): mutating actions
  50 tokens refilled at 5/s, non-mutating actions 100 tokens at 20/s. Modelled as one bucket of
  the more permissive non-mutating figures: the deployer makes few EC2 writes.
- API Gateway: account-level control plane ~10 requests/s for most management calls, with a
  burst of 40 (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
- Route 53: 5 requests per second per account for its API
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html).
- Others (IAM, KMS, S3, DynamoDB, RDS, CloudWatch, ...): generous; not limited here and left to
  botocore's standard retry mode should AWS throttle anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RateLimit:
    """`rate` calls per second on average, `burst` at once; `exempt` operations not counted."""

    rate: float
    burst: float = 1.0
    exempt: frozenset[str] = frozenset()

    def scaled(self, factor: float) -> RateLimit:
        """The same limit with time compressed by `factor` (rate divided by it)."""
        return RateLimit(self.rate / factor, self.burst, self.exempt)


DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = {
    "lambda": RateLimit(15.0, 15.0, frozenset({"GetFunction", "GetPolicy", "Invoke"})),
    "ec2": RateLimit(20.0, 100.0),
    "apigateway": RateLimit(10.0, 40.0),
    "route53": RateLimit(5.0, 5.0),
}


class TokenBucket:
    """A thread-safe token bucket. `clock` and `sleep` are injectable for tests."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # total seconds callers spent waiting

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the seconds waited.

        The token is reserved under the lock (the balance may go negative), so concurrent
        callers queue up one `1/rate` apart instead of all waking at once.
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait


@dataclass
class RateLimiter:
    """One bucket per (service, region), made on first use from `limits` (by service name)."""

    limits: Mapping[str, RateLimit]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bucket(self, service: str, region: str) -> TokenBucket | None:
        limit = self.limits.get(service)
        if limit is None:
            return None
        with self._lock:
            bucket = self._buckets.get((service, region))
            if bucket is None:
                bucket = TokenBucket(limit.rate, limit.burst, clock=self.clock, sleep=self.sleep)
                self._buckets[(service, region)] = bucket
            return bucket

    def hook(self, service: str, region: str) -> Callable[..., None] | None:
        """A `before-call` handler for one client, or None when the service is not limited."""
        limit = self.limits.get(service)
        bucket = self.bucket(service, region)
        if limit is None or bucket is None:
            return None
        exempt = limit.exempt

        def before_call(model: Any, **_: Any) -> None:
            if model.name not in exempt:
                bucket.acquire()

        return before_call

    def waited(self) -> dict[str, float]:
        """Seconds spent waiting, per `service:region`."""
        with self._lock:
            return {f"{s}:{r}": b.waited for (s, r), b in sorted(self._buckets.items())}

    @classmethod
    def scaled(cls, limits: Mapping[str, RateLimit], factor: float) -> RateLimiter:
        return cls({name: limit.scaled(factor) for name, limit in limits.items()})


def limiter_from(limits: Mapping[str, RateLimit] | RateLimiter | None) -> RateLimiter | None:
    if limits is None or isinstance(limits, RateLimiter):
        return limits
    return RateLimiter(dict(limits))


__all__ = [
    "DEFAULT_RATE_LIMITS",
    "RateLimit",
    "RateLimiter",
    "TokenBucket",
    "limiter_from",
]
