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
    PHASE_CHANGED = "phase_changed"  # the therapist changed the phase or moved to a point


class Phase(enum.Enum):
    """Where a point's work stands, set by the therapist, never inferred from force."""

    BASELINE = "baseline"  # threshold trials before treatment: every mark is a trial
    TREATMENT = "treatment"  # holds run; every mark is a pressure step (next barrier)
    AFTER = "after"  # threshold trials after treatment

    def next(self) -> Phase:
        """The phase one key press moves on to (baseline -> treatment -> after -> baseline)."""
        order = list(Phase)
        return order[(order.index(self) + 1) % len(order)]

    @property
    def trials(self) -> bool:
        """A trial phase: marks are trials, no hold starts, crossings are shown but silent."""
        return self is not Phase.TREATMENT


class InputKind(enum.Enum):
    """Every operator input; each one is applied at a sample position and recorded."""

    TARE = "tare"
    TARE_ANYWAY = "tare_anyway"  # a probe preloaded by design: zero taken whatever the force
    MARK = "mark"  # threshold mark; args: by = "button" | "key"
    MARK_TOLERANCE = "mark_tolerance"  # pain tolerance (Hou P2); args: by
    ARM_TOLERANCE = "arm_tolerance"  # the patient's next button press marks tolerance
    PHASE = "phase"  # args: phase = a Phase value, or none to cycle
    START_HOLD = "start_hold"
    STOP_HOLD = "stop_hold"
    NEXT_POINT = "next_point"  # args: site, side
    DELETE_TRIAL = "delete_trial"  # args: number (1-based within the point)
    REFILE_TRIAL = "refile_trial"  # args: number, as = "baseline" | "after" | "step"
    BAND_PRESET = "band_preset"  # args: preset
    BAND_CUSTOM = "band_custom"  # args: lo, hi, unit = "N" | "%"
    TARGET = "target"  # args: target_s
    GRACE = "grace"  # args: grace_s
    HOLD_MODE = "hold_mode"  # args: mode = "cumulative" | "continuous"

    @classmethod
    def parse(cls, name: str | InputKind) -> InputKind:
        """An input kind from its name ('mark', 'next-point', ...)."""
        if isinstance(name, InputKind):
            return name
        key = name.strip().lower().replace("-", "_").replace(" ", "_")
        for kind in cls:
            if kind.value == key:
                return kind
        raise ValueError(f"unknown input {name!r}; use one of {', '.join(k.value for k in cls)}")


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
class Input(Event):
    """An operator input, applied after the sample number `sample` (the count of samples
    the tracker had taken, minus one; -1 before any) whose time is `t_s`.

    Raw samples plus these inputs recompute every decision (`tpforce.core.replay`).
    `args` holds (name, value) pairs of plain str/float values.
    """

    kind: InputKind
    sample: int = -1
    args: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        # A recording read back gives lists: keep the event immutable and comparable.
        object.__setattr__(self, "args", tuple((str(k), v) for k, v in self.args))

    def arg(self, name: str, default: object = None) -> object:
        """One argument by name."""
        for key, value in self.args:
            if key == name:
                return value
        return default

    @classmethod
    def make(cls, kind: InputKind | str, t_s: float = 0.0, sample: int = -1,
             **args: object) -> Input:
        """An input with keyword arguments (None values dropped)."""
        pairs = tuple((k, v) for k, v in args.items() if v is not None)
        return cls(t_s, InputKind.parse(kind), sample, pairs)


@dataclass(frozen=True, slots=True)
class InputRefused(Event):
    """An input was not applied; `reason` says why, in words for the screen."""

    kind: InputKind
    reason: str


@dataclass(frozen=True, slots=True)
class PhaseChanged(Event):
    """The point's phase changed (by the therapist, or after the expected baseline trials)."""

    phase: Phase
    previous: Phase
    auto: bool = False


@dataclass(frozen=True, slots=True)
class TrialRefiled(Event):
    """A mark of the current point was deleted (`to` is None) or re-filed."""

    number: int
    previous: str
    to: str | None


@dataclass(frozen=True, slots=True)
class BandWarning(Event):
    """The band works but something about it deserves a word on screen."""

    message: str


@dataclass(frozen=True, slots=True)
class TimeRefused(Event):
    """Samples whose time did not increase were dropped (`count` of them, so far `total`)."""

    count: int
    total: int


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
    """The zero was taken from samples at rest (`anyway`: under load, on purpose)."""

    zero_counts: float
    anyway: bool = False


@dataclass(frozen=True, slots=True)
class ThresholdMarked(Event):
    """The patient signalled the pain threshold; `ppt_n` is the peak just before the mark."""

    ppt_n: float
    trial: int
    ramp_n_per_s: float = float("nan")  # mean ramp rate from contact to the peak
    ramp_ok: bool | None = None  # within tolerance of the target ramp (None if unknown)
    phase: str = "baseline"  # how the mark is filed: "baseline", "after" or "step"
    by: str = "key"  # who marked: "button" (the patient) or "key" (therapist's key/pedal)


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
    """The force crossed above the alarm level (MEDIUM), or an alarm escalated to HIGH
    (`escalation`: over 1 s, or 10 % above the level). `silent` in trial phases: shown only."""

    force_n: float
    ppt_n: float
    priority: AlarmPriority = AlarmPriority.MEDIUM
    escalation: bool = False
    silent: bool = False


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


@dataclass(frozen=True, slots=True)
class ZeroChecked(Event):
    """After hold `index`, the probe's zero at rest against the tare (`tared`; else against
    the calibration's own zero). `drift_n` is the force at rest (None when not `checked`);
    `exceeded`: beyond `limit_n`, so the hold's forces carry that error: re-tare at rest."""

    index: int
    checked: bool
    drift_n: float | None
    limit_n: float
    exceeded: bool
    tared: bool
    message: str
