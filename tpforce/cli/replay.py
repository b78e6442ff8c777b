"""`tpforce replay FILE`: the live window driven by the recording (marked REPLAY, inputs
locked, sound muted), with play, pause, speed, step, seek and a timeline; the Settings menu
rescores the holds as a what-if beside the recorded result.

`tpforce replay --verify FILE...`: recompute every decision headless from the raw samples
and the recorded inputs (exit 0 when equal, 1 naming the first difference, 2 for a file that
cannot be read). `tpforce replay FILE --what-if band=70-85 --what-if target=45`: print the
holds rescored with those settings beside the recorded ones (add `--window` to see it in
the window instead).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tpforce.cli import UserError
from tpforce.cli.argtypes import non_negative
from tpforce.io.recorder import RecordingError

WHAT_IF_NAMES = {"band": "custom band in % of the PPT, e.g. band=70-85",
                 "preset": "band preset: below_threshold, hou_p1, hou_p2",
                 "target": "hold target in seconds", "mode": "cumulative or continuous",
                 "grace": "grace time in seconds"}


def what_if_setting(text: str) -> tuple[str, Any]:
    """'band=70-85' as ('custom', (70, 85)); 'target=45' as ('target_s', 45.0), ..."""
    name, _, value = text.partition("=")
    name = name.strip().lower()
    if name not in WHAT_IF_NAMES or not value:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give NAME=VALUE with NAME one of {', '.join(WHAT_IF_NAMES)}")
    try:
        if name == "band":
            from tpforce.ui.actions import parse_band

            return "custom", parse_band(value)
        if name == "preset":
            from tpforce.core.band import BandPreset

            return "band_preset", BandPreset.parse(value).value
        if name == "mode":
            if value not in ("cumulative", "continuous"):
                raise ValueError("mode is cumulative or continuous")
            return "hold_mode", value
        number = float(value)
        if (name == "target" and not number > 0) or (name == "grace" and not number >= 0):
            raise ValueError(f"{name} must be {'positive' if name == 'target' else '>= 0'}")
        return ("target_s" if name == "target" else "grace_s"), number
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def seek_point(text: str) -> str:
    """'12.5' (seconds from the start) or 'hold:N' (two thirds into hold N)."""
    if text.startswith("hold:"):
        if not text[5:].isdigit() or int(text[5:]) < 1:
            raise argparse.ArgumentTypeError(f"{text!r}: give hold:N with N = 1, 2, ...")
        return text
    try:
        if float(text) >= 0:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: give seconds from the start or hold:N")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="replay a recording in the window, what-if, --verify",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="recording folder(s) (*.tpfrec)")
    p.add_argument("--verify", action="store_true",
                   help="recompute every decision and compare it with the recording")
    p.add_argument("--what-if", action="append", default=[], type=what_if_setting,
                   metavar="NAME=VALUE",
                   help="rescore the holds with another setting: " + "; ".join(
                       f"{k} ({v})".replace("%", "%%")  # argparse %-formats its help
                       for k, v in WHAT_IF_NAMES.items()) + "; may be repeated")
    p.add_argument("--window", action="store_true",
                   help="with --what-if: show it in the replay window, not as text")
    p.add_argument("--speed", type=float, default=1.0, metavar="X",
                   help="playback speed, 0.25 to 8 (default 1)")
    p.add_argument("--seek", type=seek_point, metavar="S|hold:N",
                   help="start at S seconds from the start, or inside hold N")
    p.add_argument("--play", action="store_true", help="start playing (default: paused)")
    p.add_argument("--duration", type=non_negative, metavar="S", help="close after S seconds")
    p.add_argument("--screenshot", metavar="PATH",
                   help="save a PNG of the window before it closes")
    p.add_argument("--settings", type=Path, metavar="INI",
                   help="read the display settings (units, trace) from this file")
    p.set_defaults(run=run)


def run_verify(files: list[str]) -> int:
    """Verify each file; the worst outcome decides the exit code."""
    from tpforce.io.player import verify

    worst = 0
    for path in files:
        try:
            difference, warnings = verify(path)
        except RecordingError as exc:
            print(f"tpforce replay: {exc}", file=sys.stderr)
            worst = 2
            continue
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        if difference is None:
            print(f"{path}: OK, every decision recomputes equal")
        else:
            print(f"{path}: DIFFERS at {difference}")
            worst = max(worst, 1)
    return worst


def what_if_changes(settings: list[tuple[str, Any]]) -> dict[str, Any]:
    """The --what-if options as the player's what-if changes."""
    changes: dict[str, Any] = {}
    for key, value in settings:
        if key == "custom":
            changes["custom_lo_pct"], changes["custom_hi_pct"] = value
            changes["band_preset"] = "custom"
        else:
            changes[key] = value
    return changes


def recorded_settings(config: Any) -> dict[str, Any]:
    """A recording's hold settings under the live window's names."""
    out: dict[str, Any] = {"band_preset": config.band_preset, "target_s": config.target_s,
                           "hold_mode": config.mode, "grace_s": config.grace_s}
    if config.band_preset == "custom":
        out["custom_lo_pct"] = round(config.band_lo_frac * 100, 6)
        out["custom_hi_pct"] = round(config.band_hi_frac * 100, 6)
    return out


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def run_what_if(path: str, changes: dict[str, Any]) -> int:
    """Print the recorded and the rescored holds side by side."""
    from tpforce.io.player import what_if
    from tpforce.io.recorder import RecordingReader
    from tpforce.ui.replay import settings_words

    reader = RecordingReader(path)
    try:
        rows = what_if(reader, changes)
    except ValueError as exc:
        raise UserError(f"--what-if: {exc}") from None
    for w in reader.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"{path}: what-if {settings_words(changes)} from the first sample on (the "
          "recorded inputs that set it are left out); the recording is unchanged")
    head = ("hold", "recorded in band s", "% in band", "completed",
            "what-if in band s", "% in band", "completed")
    print("  " + " | ".join(head))
    for row in rows:
        cells: list[str] = []
        rec, new = row.recorded, row.what_if
        index = rec.index if rec is not None else new.index if new is not None else 0
        cells.append(str(index) if rec is not None else f"({index}, what-if only)")
        for m in (rec, new):
            cells += (["-", "-", "no such hold"] if m is None else
                      [f"{m.in_band_s:.1f}", f"{m.in_band_pct:.0f}", _yes(m.completed)])
        print("  " + " | ".join(cells))
    if not rows:
        print("  no holds, recorded or rescored")
    return 0


def recorded_when(started: object) -> str:
    """The context's start time ('2026-12-01T20:57:02+0000') as '2026-12-01 20:57 +0000'."""
    import datetime as dt

    try:
        when = dt.datetime.strptime(str(started), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return "at an unknown time"
    return f"{when:%Y-%m-%d %H:%M} {when:%z}"


def resolve_seek(text: str | None, holds: list[Any], start_t: float) -> float | None:
    """--seek as recording time (UserError for a hold the recording does not have)."""
    if text is None:
        return None
    if text.startswith("hold:"):
        n = int(text[5:])
        if n > len(holds):
            raise UserError(f"--seek {text}: the recording has {len(holds)} hold(s)")
        h = holds[n - 1]
        return float(h.start_s + (h.end_s - h.start_s) * 2 / 3)
    return start_t + float(text)


@dataclass
class Replay:
    """A recording opened for the window: the running pipeline on its player, what the
    banner and the what-if need, and the recorded settings for the window's menus."""

    pipeline: Any
    player: Any
    info: Any
    holds: list[Any]


def open_replay(path: str, speed: float = 1.0) -> Replay:
    """Open `path` on a player in the one wiring, paused at its start (RecordingError if
    it cannot be read or recomputed)."""
    from tpforce.cli.wiring import start_pipeline
    from tpforce.core.tracker import Tracker
    from tpforce.io.player import PlayerSource, recorded_holds, reset_processor, what_if
    from tpforce.ui.replay import ReplayInfo

    player = PlayerSource(path, speed=speed)
    reader = player.reader
    if reader.context.get("from_first_sample") is False:
        raise RecordingError(f"{reader.path}: started mid-session; it cannot be replayed "
                             "from its first sample alone")
    pipeline = start_pipeline(player, choose=lambda s: player.calibration, hold=player.config,
                              ring_s=120.0)
    player.attach(pipeline.processor, play=False)
    if player.band is not None:  # a band given up front, as the recording started
        reset_processor(pipeline.processor, player.calibration,
                        Tracker(player.config, player.band))
    ctx = reader.context
    info = ReplayInfo(
        file=reader.path.name, recorded=recorded_when(reader.doc.get("started")),
        patient=str(ctx.get("patient", "unknown")), operator=str(ctx.get("operator", "")),
        events=[e for _, e in reader.events()],
        recorded_settings=recorded_settings(player.config),
        rescore=lambda c: [(r.recorded, r.what_if) for r in what_if(reader, c)])
    return Replay(pipeline, player, info, recorded_holds(reader))


def run_window(args: argparse.Namespace, changes: dict[str, Any]) -> int:
    """Open the replay window on the one recording."""
    from tpforce.cli.wiring import qt_display_problem

    if len(args.files) != 1:
        raise UserError("replay one recording at a time in the window (--verify takes many)")
    if not 0.25 <= args.speed <= 8:
        raise UserError("--speed is from 0.25 to 8")
    replay = open_replay(args.files[0], args.speed)  # a bad file is said first
    with replay.pipeline as pipeline:
        if qt_display_problem():
            raise UserError("no display available: --what-if and --verify print text, or "
                            "set QT_QPA_PLATFORM=offscreen to render without a screen")
        from tpforce.ui import settings as settings_io
        from tpforce.ui.replay import ReplayOptions, run_replay_window
        from tpforce.ui.status import LiveLink

        player = replay.player
        seek_s = resolve_seek(args.seek, replay.holds, player.start_t)
        store = settings_io.open_store(args.settings)
        settings = settings_io.load(store).with_(**replay.info.recorded_settings)
        options = ReplayOptions(seek_s=seek_s, play=args.play, speed=args.speed,
                                duration_s=args.duration, screenshot=args.screenshot,
                                what_if=changes)
        link = LiveLink(device="REPLAY")  # the banner names the file; the bar stays short
        return run_replay_window(pipeline.processor, pipeline.ring, pipeline.events, player,
                                 replay.info, options, settings=settings, link=link,
                                 max_rate_sps=max(player.nominal_rate_sps, 80.0))


def run(args: argparse.Namespace) -> int:
    """Verify, print a what-if, or replay in the window."""
    if args.verify:
        return run_verify(args.files)
    changes = what_if_changes(args.what_if)
    try:
        if changes and not (args.window or args.screenshot or args.duration is not None):
            worst = 0
            for path in args.files:
                worst = max(worst, run_what_if(path, changes))
            return worst
        return run_window(args, changes)
    except RecordingError as exc:
        raise UserError(str(exc)) from None
