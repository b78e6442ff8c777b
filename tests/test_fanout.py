"""The fan-out that hands batches and events to every consumer."""

from __future__ import annotations

import numpy as np

from tpforce.core.consumer import FanOut
from tpforce.core.events import ConsumerFailed, Event, SignalLost
from tpforce.core.samples import empty_batch


class Log:
    def __init__(self, fanout: FanOut | None = None, detach: object = None) -> None:
        self.events: list[Event] = []
        self.batches = 0
        self.fanout, self.detach = fanout, detach

    def on_batch(self, batch: np.ndarray) -> None:
        self.batches += 1
        if self.fanout is not None:  # detaches a consumer while the fan-out is delivering
            self.fanout.remove(self.detach)  # type: ignore[arg-type]

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


class Broken(Log):
    def on_batch(self, batch: np.ndarray) -> None:
        raise RuntimeError("disk full")


def test_removing_a_consumer_mid_delivery_skips_no_other() -> None:
    out = FanOut()
    victim, last = Log(), Log()
    out.add(victim)
    out.add(Log(out, victim))  # removes the consumer before it, as a GUI thread might
    out.add(last)
    out.on_batch(empty_batch(3))
    assert last.batches == 1  # a list shrunk under the loop would have skipped it
    out.on_batch(empty_batch(3))
    assert victim.batches == 1 and last.batches == 2


def test_a_raising_consumer_is_reported_and_the_others_still_served() -> None:
    out = FanOut()
    good = Log()
    out.add(Broken())
    out.add(good)
    out.on_batch(empty_batch(2))
    out.on_event(SignalLost(1.0))
    assert good.batches == 1 and out.failures == 1
    failed = [e for e in good.events if isinstance(e, ConsumerFailed)]
    assert len(failed) == 1 and "disk full" in failed[0].error
    assert isinstance(good.events[-1], SignalLost)


def test_remove_of_an_unknown_consumer_is_harmless() -> None:
    out = FanOut([Log()])
    out.remove(Log())
    assert len(out.consumers) == 1
