"""The one consumer interface downstream of a source, and a fan-out that survives failures."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np

from tpforce.core.events import ConsumerFailed, Event

log = logging.getLogger(__name__)


@runtime_checkable
class Consumer(Protocol):
    """Anything that takes sample batches and events: display buffer, recorder, analysis."""

    def on_batch(self, batch: np.ndarray) -> None:
        """Take a batch of samples (SAMPLE_DTYPE); must not keep a reference it will mutate."""

    def on_event(self, event: Event) -> None:
        """Take one event."""

    def close(self) -> None:
        """Flush and release; may be called twice."""


class FanOut:
    """Hands every batch and event to each consumer; one that raises is reported, not fatal."""

    def __init__(self, consumers: Iterable[Consumer] = ()) -> None:
        self.consumers: list[Consumer] = list(consumers)
        self.failures = 0

    def add(self, consumer: Consumer) -> None:
        """Attach one more consumer (from any thread)."""
        # Copy-on-write: the reader thread iterates whichever list it picked up, so a
        # consumer added or removed meanwhile never makes it skip another one.
        self.consumers = [*self.consumers, consumer]

    def remove(self, consumer: Consumer) -> None:
        """Detach a consumer (from any thread); one not attached is ignored."""
        self.consumers = [c for c in self.consumers if c is not consumer]

    def on_batch(self, batch: np.ndarray) -> None:
        """Deliver a batch to every consumer."""
        for consumer in self.consumers:
            try:
                consumer.on_batch(batch)
            except Exception as exc:  # isolation is the point
                t_s = float(batch["t_s"][-1]) if len(batch) else 0.0
                self._failed(consumer, exc, t_s)

    def on_event(self, event: Event) -> None:
        """Deliver an event to every consumer."""
        for consumer in self.consumers:
            self._event_to(consumer, event)

    def deliver(self, batch: np.ndarray, events: list[Event]) -> None:
        """Each consumer in turn gets the batch, then the events it gave rise to.

        Per consumer the order is that of the stream; across consumers none waits for a later
        one, so an alarm reaches the display's relay before a recorder writes to disk.
        """
        t_s = float(batch["t_s"][-1]) if len(batch) else 0.0
        for consumer in self.consumers:
            try:
                consumer.on_batch(batch)
            except Exception as exc:  # isolation is the point
                self._failed(consumer, exc, t_s)
            for event in events:
                self._event_to(consumer, event)

    def _event_to(self, consumer: Consumer, event: Event) -> None:
        try:
            consumer.on_event(event)
        except Exception as exc:
            if not isinstance(event, ConsumerFailed):
                self._failed(consumer, exc, event.t_s)

    def close(self) -> None:
        """Close every consumer, reporting those that fail to."""
        for consumer in self.consumers:
            try:
                consumer.close()
            except Exception as exc:
                log.error("consumer %r failed to close: %s", consumer, exc)

    def _failed(self, consumer: Consumer, exc: Exception, t_s: float) -> None:
        self.failures += 1
        name = type(consumer).__name__
        log.error("consumer %s raised %s: %s", name, type(exc).__name__, exc)
        self.on_event(ConsumerFailed(t_s, name, f"{type(exc).__name__}: {exc}"))


class EventQueue:
    """A consumer that queues events for another thread to drain (the GUI's typed bridge)."""

    def __init__(self) -> None:
        import queue

        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def on_batch(self, batch: np.ndarray) -> None:
        """Batches go to the ring buffer, not here."""

    def on_event(self, event: Event) -> None:
        """Queue the event."""
        self._queue.put(event)

    def drain(self) -> list[Event]:
        """Every event queued so far, oldest first, without blocking."""
        out: list[Event] = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

    def close(self) -> None:
        """Nothing to release."""
