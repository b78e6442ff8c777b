"""The session guide: the phase in large type, the next step in words, a refusal's reason,
the ramp-rate guide and trials during PPT trials, and the band and hold summary in treatment.

Every line is computed from the tracker's snapshot, the session snapshot and the events the
window has seen; nothing here changes the session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PyQt5 import QtCore, QtWidgets

from tpforce.core.events import Phase, ThresholdMarked, Zone
from tpforce.core.metrics import HoldMetrics
from tpforce.core.session import MdcVerdict, Point
from tpforce.core.tracker import HoldConfig, TrackerState
from tpforce.core.units import Unit, convert, pressure_kpa
from tpforce.ui.readout import format_value

PHASE_TITLES = {
    Phase.BASELINE: "BASELINE TRIALS",
    Phase.TREATMENT: "TREATMENT",
    Phase.AFTER: "AFTER TRIALS",
}
VERDICT_WORDS = {
    MdcVerdict.RISE_BEYOND: "rise beyond the detectable change",
    MdcVerdict.WITHIN: "within the detectable change (not shown to be real)",
    MdcVerdict.FALL_BEYOND: "fall beyond the detectable change",
    MdcVerdict.TOO_FEW_TRIALS: "too few trials for a verdict (2 a side)",
}
NOTICE_S = 6.0  # a refused input's reason stays this long
OK_COLOUR, WARN_COLOUR, BAD_COLOUR = "#1b5e20", "#8a5200", "#b71c1c"


def value_text(force_n: float, unit: Unit, tip_area_cm2: float) -> str:
    """A force in the display unit with the unit's name ('18.8 N', '--' when unknown)."""
    if not math.isfinite(force_n):
        return "--"
    return f"{format_value(float(convert(force_n, unit, tip_area_cm2)), unit)} {unit.value}"


def hold_summary(m: HoldMetrics) -> str:
    """One line on an ended hold: in-band seconds of the target, % in band, CV, excursions."""
    cv = f"{100 * m.cv:.1f} %" if math.isfinite(m.cv) else "--"
    done = "complete" if m.completed else "not complete"
    return (f"hold {m.index} {done}: {m.in_band_s:.0f} of {m.target_s:.0f} s in band · "
            f"{m.in_band_pct:.0f} % in band · CV {cv} · "
            f"{m.above_count} above, {m.below_count} below")


def outcome_text(point: Point, tip_area_cm2: float, drop_first: bool, unit: Unit) -> str:
    """Before, after, the change in % and kPa and the verdict in words ('' until both)."""
    out = point.outcome(tip_area_cm2, drop_first)
    if out.verdict is None:
        return ""
    pct = point.change_pct(drop_first)
    return (f"before {value_text(out.ppt_before_n, unit, tip_area_cm2)} → after "
            f"{value_text(out.ppt_after_n, unit, tip_area_cm2)}: {pct:+.0f} %, "
            f"{out.change_kpa:+.0f} kPa — {VERDICT_WORDS[out.verdict]}")


@dataclass(frozen=True, slots=True)
class GuideView:
    """What the guide shows; computed by `guide_view`, so tests can check it without Qt."""

    phase: str
    step: str
    detail: str
    detail_colour: str
    trials: str


def ramp_text(state: TrackerState, cfg: HoldConfig, tip_area_cm2: float) -> tuple[str, str]:
    """The live ramp rate in N/s and kPa/s against the target and its tolerance."""
    target, tol = cfg.ramp_target_n_per_s, cfg.ramp_target_n_per_s * cfg.ramp_tolerance_frac
    aim = (f"target {target:g} ± {tol:g} N/s "
           f"({float(pressure_kpa(target, tip_area_cm2)):.0f} kPa/s)")
    rate = state.rate_n_per_s
    if state.zone in (Zone.UNKNOWN, Zone.NO_CONTACT) or not math.isfinite(rate):
        return f"ramp: -- · {aim}", WARN_COLOUR
    kpa = float(pressure_kpa(rate, tip_area_cm2))
    if rate < 0:  # the force falls: a release, not a slow ramp
        return f"releasing ({rate:.1f} N/s) · {aim}", WARN_COLOUR
    if abs(rate - target) <= tol:
        verdict, colour = "on target", OK_COLOUR
    elif rate > target:
        verdict, colour = "too fast", BAD_COLOUR
    else:
        verdict, colour = "too slow", WARN_COLOUR
    return f"ramp {rate:.1f} N/s · {kpa:.0f} kPa/s: {verdict} · {aim}", colour


def guide_view(state: TrackerState, point: Point, cfg: HoldConfig, tared: bool,
               last_mark: ThresholdMarked | None, summary: str, unit: Unit,
               tip_area_cm2: float, drop_first: bool) -> GuideView:
    """The guide's lines for this moment of the session."""
    phase = Phase(state.phase)
    n_trials = cfg.trials
    trials = ""
    if phase.trials:
        done = len(point.trials_before_n if phase is Phase.BASELINE else point.trials_after_n)
        detail, colour = ramp_text(state, cfg, tip_area_cm2)
        if not tared and not point.marks:
            step = "tare with the probe at rest (T)"
        elif done >= n_trials:
            step = ("trials done: P for treatment" if phase is Phase.BASELINE
                    else "after trials done: N for the next point")
        else:
            lead = "" if phase is Phase.BASELINE else "measure after: "
            step = (f"{lead}trial {done + 1} of {n_trials}: ramp at "
                    f"{cfg.ramp_target_n_per_s:g} N/s, Space at the threshold")
        values = list(state.trials_n)
        if values:
            listed = "  ".join(f"{i}) {value_text(v, unit, tip_area_cm2)}"
                               for i, v in enumerate(values, 1))
            trials = f"trials: {listed}   (Backspace deletes the last)"
        if last_mark is not None and last_mark.phase == phase.value:
            ramp = (f" at {last_mark.ramp_n_per_s:.1f} N/s"
                    if math.isfinite(last_mark.ramp_n_per_s) else "")
            ok = {True: ", ramp on target", False: ", ramp off target", None: ""}[
                last_mark.ramp_ok]
            trials = (f"last trial: peak {value_text(last_mark.ppt_n, unit, tip_area_cm2)}"
                      f"{ramp}{ok}\n" + trials)
        if phase is Phase.AFTER:
            verdict = outcome_text(point, tip_area_cm2, drop_first, unit)
            if verdict:
                trials = (trials + "\n" if trials else "") + verdict
    else:
        colour = OK_COLOUR
        detail = summary
        if state.band_status == "needs_tolerance":
            step = "Hou P2 band: mark the pain tolerance (O) first"
        elif state.band is None:
            step = "no band yet: mark the threshold (P back to trials, or Space)"
        elif state.completed and not state.hold_active:
            step = "hold complete: P to measure after"
        elif state.hold_active:
            step = "treat: hold in the band"
        else:
            step = "treat: press into the band; the hold starts by itself (H starts one)"
    return GuideView(PHASE_TITLES[phase], step, detail, colour, trials)


class GuidePanel(QtWidgets.QFrame):
    """The phase, the next step, a refusal's reason for a few seconds, and the details."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.phase = QtWidgets.QLabel(PHASE_TITLES[Phase.BASELINE])
        self.step = QtWidgets.QLabel("")
        self.notice = QtWidgets.QLabel("")
        self.detail = QtWidgets.QLabel("")
        self.trials = QtWidgets.QLabel("")
        for label in (self.step, self.notice, self.detail, self.trials):
            label.setWordWrap(True)
        self.notice.setStyleSheet(f"color: white; background: {BAD_COLOUR}; padding: 4px")
        self.notice.setVisible(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.phase)
        top.addWidget(self.step, stretch=1)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(self.detail)
        layout.addWidget(self.trials)
        self._notice_until = 0.0
        self._shown: GuideView | None = None

    def say(self, reason: str, now_s: float) -> None:
        """Show why an input was refused, for NOTICE_S seconds."""
        self.notice.setText(reason)
        self.notice.setVisible(True)
        self._notice_until = now_s + NOTICE_S

    def show_view(self, view: GuideView, now_s: float) -> None:
        """Write the lines (only those that changed) and expire an old notice."""
        if self.notice.isVisible() and now_s >= self._notice_until:
            self.notice.setVisible(False)
        if view == self._shown:
            return
        old = self._shown
        self._shown = view
        self.phase.setText(view.phase)
        self.step.setText(view.step)
        self.detail.setText(view.detail)
        self.detail.setVisible(bool(view.detail))
        if old is None or old.detail_colour != view.detail_colour:
            self.detail.setStyleSheet(f"color: {view.detail_colour}; font-weight: bold")
        self.trials.setText(view.trials)
        self.trials.setVisible(bool(view.trials))
        self.phase.setAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter)
