"""Events: frozen dataclasses that carry everything that is not a sample."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Zone(enum.IntEnum):
    """Where a force stands against the band; ordered from no contact to over threshold."""

    UNKNOWN = 0  # no data (gap, signal lost, saturated)
    NO_CONTACT = 1  # below the contact force
    BELOW = 2  # in contact, below the band
    IN_BAND = 3
    ABOVE = 4  # above the band, still below the threshold
    OVER = 5  # above the patient's pain threshold


class HoldEnd(enum.Enum):
    """Why a hold ended."""

    LEFT_BAND = "left_band"  # out of band for longer than the grace time
    RELEASED = "released"  # force fell below contact
    SIGNAL_LOST = "signal_lost"  # the data stopped; the hold is interrupted
    STOPPED = "stopped"  # the user or the end of the stream stopped it


class AlarmPriority(enum.IntEnum):
    """IEC 60601-1-8 alarm priorities."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events: `t_s` is on the sample timeline, never the wall clock."""

    t_s: float


@dataclass(frozen=True, slots=True)
class DeviceInfo(Event):
    """A probe introduced itself (banner after boot, or answer to HELLO)."""

    protocol: int
    firmware: str
    board: int
    adc: int
    rate_sps: int
    gain: int
    streaming: bool
    serial: str
    caps: int


@dataclass(frozen=True, slots=True)
class DeviceReset(Event):
    """The device restarted: its sequence and clock began again."""


@dataclass(frozen=True, slots=True)
class FramesLost(Event):
    """`count` sample frames were lost before the sample at `t_s` (from sequence numbers)."""

    count: int


@dataclass(frozen=True, slots=True)
class SignalLost(Event):
    """No sample arrived for the stale timeout; `t_s` is the last sample's time."""


@dataclass(frozen=True, slots=True)
class SignalRestored(Event):
    """Samples arrive again after a `SignalLost`."""

    gap_s: float


@dataclass(frozen=True, slots=True)
class DeviceLog(Event):
    """A diagnostic text line from the device."""

    level: int
    text: str


@dataclass(frozen=True, slots=True)
class SourceError(Event):
    """The source met a problem it could not hide (port gone, permission, ...)."""

    message: str


@dataclass(frozen=True, slots=True)
class ConsumerFailed(Event):
    """A consumer raised; acquisition went on without losing data for the others."""

    consumer: str
    error: str


@dataclass(frozen=True, slots=True)
class ButtonChanged(Event):
    """The probe button was pressed or released."""

    pressed: bool


@dataclass(frozen=True, slots=True)
class Tared(Event):
    """The zero was taken from samples at rest."""

    zero_counts: float


@dataclass(frozen=True, slots=True)
class ThresholdMarked(Event):
    """The patient signalled the pain threshold; `ppt_n` is the peak just before the mark."""

    ppt_n: float
    trial: int
    ramp_n_per_s: float = float("nan")  # mean ramp rate from contact to the peak
    ramp_ok: bool | None = None  # within tolerance of the target ramp (None if unknown)
    phase: str = "before"  # "before" or "after" the point's holds, or "step" during a hold


@dataclass(frozen=True, slots=True)
class BandChanged(Event):
    """The tolerance band moved (new threshold or new preset)."""

    lo_n: float
    hi_n: float
    ppt_n: float


@dataclass(frozen=True, slots=True)
class ZoneChanged(Event):
    """The force moved into another zone."""

    zone: Zone
    previous: Zone


@dataclass(frozen=True, slots=True)
class HoldStarted(Event):
    """The force entered the band after contact (or the user started one): a hold begins."""

    index: int
    manual: bool = False


@dataclass(frozen=True, slots=True)
class HoldCompleted(Event):
    """In-band time reached the target."""

    index: int
    in_band_s: float


@dataclass(frozen=True, slots=True)
class HoldEnded(Event):
    """The hold is over; `t_s` is when it ended (for LEFT_BAND, when it left the band)."""

    index: int
    reason: HoldEnd
    in_band_s: float
    completed: bool


@dataclass(frozen=True, slots=True)
class OverThreshold(Event):
    """The force crossed above the patient's threshold: a high-priority alarm."""

    force_n: float
    ppt_n: float
    priority: AlarmPriority = AlarmPriority.HIGH


@dataclass(frozen=True, slots=True)
class ToleranceMarked(Event):
    """The patient signalled pain tolerance (Hou's P2 needs it); peak just before the mark."""

    tolerance_n: float
    trial: int


@dataclass(frozen=True, slots=True)
class PressureStep(Event):
    """The threshold was re-marked during a hold: the band moves up to the next barrier."""

    index: int
    from_ppt_n: float
    to_ppt_n: float


@dataclass(frozen=True, slots=True)
class TargetChanged(Event):
    """The in-band time a hold must reach changed (presets 30, 60, 90 s)."""

    target_s: float


@dataclass(frozen=True, slots=True)
class PointChanged(Event):
    """The session moved on to another point."""

    index: int
    site: str
    side: str | None


@dataclass(frozen=True, slots=True)
class HoldScored(Event):
    """The metrics of a hold that just ended (a `tpforce.core.metrics.HoldMetrics`)."""

    index: int
    metrics: object


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """The port went away (cable pulled, board gone); the source keeps trying to reconnect."""

    port: str
    reason: str


@dataclass(frozen=True, slots=True)
class Reconnected(Event):
    """The source found its device again, on `port`, after `gap_s` seconds of host time."""

    port: str
    gap_s: float
