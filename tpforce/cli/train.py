"""`tpforce train`: trainee practice drills with feedback schedules, retention and progress.

`tpforce train --port PORT --preset NAME` opens the Practice window; `--headless --json`
runs the drill without a window and prints its scores. With `--port sim` a simulated
trainee (`--hand novice|trained|expert`) plays the drill, closing its loop on exactly what
the schedule shows. `--trainee ID` keeps the scores in the history store; `--progress ID`
prints that trainee's history (`--csv FILE`, `--plot FILE.svg`). Drills are JSON files:
`--preset` takes a shipped preset's name or a file's path (docs/training.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from tpforce.cli.argtypes import positive
from tpforce.train.drill import Drill, DrillError, load_drill, preset_names
from tpforce.train.schedule import PRACTICE, RETENTION

BLOCKS = {"all": (PRACTICE, RETENTION), PRACTICE: (PRACTICE,), RETENTION: (RETENTION,)}


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    from tpforce.io.sim.skill import LEVELS

    p = sub.add_parser(name, help="trainee practice drills, retention blocks and progress",
                       description=__doc__)
    p.add_argument("--port", metavar="PORT", help="the probe's port, 'auto', or 'sim'")
    p.add_argument("--preset", metavar="NAME|FILE",
                   help=f"a shipped drill ({', '.join(preset_names())}) or a drill file")
    p.add_argument("--block", choices=sorted(BLOCKS), default="all",
                   help="run the practice block, the retention block, or both (default); "
                        "a retention block on a later day is '--block retention'")
    p.add_argument("--surface", choices=("pad", "partner"), default="pad",
                   help="what the trainee presses on (a partner makes it a transfer block)")
    p.add_argument("--trainee", metavar="ID", help="keep the scores under this trainee ID")
    p.add_argument("--db", metavar="URL", help="history store (default: as tpforce history)")
    p.add_argument("--hand", choices=LEVELS, default="trained",
                   help="--port sim: the simulated trainee's skill level")
    p.add_argument("--partner-ppt", type=positive, default=25.0, metavar="N",
                   help="--port sim: the simulated partner's threshold (N)")
    p.add_argument("--speed", type=positive, default=None, metavar="X",
                   help="--port sim: simulated seconds per real second (default 1 in the "
                        "window, 10 headless)")
    p.add_argument("--seed", type=int, default=0, help="--port sim: random seed")
    p.add_argument("--headless", action="store_true", help="no window: print the scores")
    p.add_argument("--json", action="store_true", help="headless: print JSON")
    p.add_argument("--progress", metavar="TRAINEE", help="print a trainee's progress table")
    p.add_argument("--csv", metavar="FILE", help="--progress: also write it as CSV")
    p.add_argument("--plot", metavar="FILE", help="--progress: also draw it as SVG")
    p.add_argument("--list", action="store_true", help="list the shipped presets")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch: list, progress, or run a drill (headless or in the window)."""
    from tpforce.cli import UserError

    if args.list:
        for name in preset_names():
            print(f"{name:18} {load_drill(name).title}")
        return 0
    if args.progress:
        from tpforce.cli.train_progress import show_progress

        return show_progress(args)
    if not args.port or not args.preset:
        raise UserError("give --port PORT and --preset NAME (or --progress TRAINEE, --list)")
    try:
        drill = load_drill(args.preset)
    except DrillError as exc:
        raise UserError(str(exc)) from None
    blocks = BLOCKS[args.block]
    if RETENTION in blocks and drill.retention_trials == 0 and len(blocks) == 1:
        raise UserError(f"drill {drill.name!r} has no retention block: choose --block practice")
    if args.block == "all" and drill.retention_after_days > 0:
        blocks = (PRACTICE,)  # the retention block waits for its day
    if not args.headless:
        from tpforce.cli.wiring import qt_display_problem

        problem = qt_display_problem()
        if problem:
            raise UserError(problem)
        return run_window(args, drill, blocks)
    outcome = run_headless(args, drill, blocks)
    _finish(args, drill, outcome)
    return 0 if outcome["complete"] else 1


def open_drill(args: argparse.Namespace, drill: Drill, blocks: tuple[str, ...],
               speed: float) -> tuple[Any, Any]:
    """The drill run and its running pipeline (a simulated trainee plays on `--port sim`)."""
    from tpforce.cli import UserError
    from tpforce.cli.wiring import SIM_PORT, open_pipeline
    from tpforce.core.source import SourceOpenError
    from tpforce.io.sim.skill import SimTrainee
    from tpforce.train.runner import DrillRun

    run = DrillRun(drill, blocks, surface=args.surface)
    sim_options = None
    if args.port == SIM_PORT:
        trainee = SimTrainee(run, args.hand, kind=drill.kind, ramp_n_per_s=drill.ramp_n_per_s,
                             partner_ppt_n=args.partner_ppt, seed=args.seed,
                             self_controlled=drill.feedback.schedule == "self")
        sim_options = {"intent": trainee, "hand": trainee, "speed": speed, "seed": args.seed}
    try:
        pipeline = open_pipeline(args.port, sim_options=sim_options, extras=[run],
                                 reconnect=False)
    except SourceOpenError as exc:
        raise UserError(str(exc)) from None
    return run, pipeline


def planned_s(drill: Drill, blocks: tuple[str, ...]) -> float:
    """The drill's length in device seconds (an upper bound for %-of-PPT drills)."""
    from tpforce.train.schedule import make_plan

    target = drill.target_n if drill.target_n is not None else 150.0
    return make_plan(drill, target, blocks).end_s + (15.0 if drill.needs_ppt else 0.0)


def run_headless(args: argparse.Namespace, drill: Drill, blocks: tuple[str, ...]
                 ) -> dict[str, Any]:
    """Run the drill to its end without a window; its outcome as plain data."""
    speed = args.speed or (10.0 if args.port == "sim" else 1.0)
    run, pipeline = open_drill(args, drill, blocks, speed)
    try:
        # Device time paces the drill; allow for a slow machine, never wait forever.
        if not run.done.wait(planned_s(drill, blocks) / speed * 4 + 30):
            run.error = "the probe stopped sending samples before the drill ended"
    finally:
        pipeline.close()
    out = run.outcome()
    if args.port == "sim":
        out["simulated_hand"] = args.hand
    return out


def _finish(args: argparse.Namespace, drill: Drill, outcome: dict[str, Any]) -> None:
    """Store the scores (with --trainee), then print them."""
    if args.trainee:
        from tpforce.cli import UserError
        from tpforce.history.store import HistoryError
        from tpforce.history.trainees import record_session

        try:
            due = record_session(args.db, args.trainee, outcome, drill,
                                 today=dt.date.today())
        except (HistoryError, ValueError) as exc:
            raise UserError(str(exc)) from None
        if due:
            outcome["retention_due_on"] = due
    if args.json:
        json.dump(outcome, sys.stdout, indent=1)
        print()
        return
    print(format_outcome(outcome))


def format_outcome(out: dict[str, Any]) -> str:
    """The outcome as a short text table."""
    lines = [f"{out['title']} ({out['schedule']} feedback, on a {out['surface']})"]
    if out.get("ppt_n") is not None:
        lines.append(f"partner's threshold {out['ppt_n']:.1f} N -> target {out['target_n']:.1f} N")
    ramp = out["kind"] == "ramp"
    head = ("block      trial  feedback    rate N/s  err %  steady %" if ramp else
            "block      trial  feedback    in band %  RMSE N  CV %  to band s  over  drift N/s")
    lines.append(head)

    def f(v: Any, w: int, p: int = 1) -> str:
        return f"{v:>{w}.{p}f}" if isinstance(v, int | float) else f"{'-':>{w}}"

    for t in out["trials"]:
        if ramp:
            lines.append(f"{t['block']:10} {t['trial']:5}  {t['feedback']:10} "
                         f"{f(t['ramp_rate_n_per_s'], 9, 2)} {f(t['rate_error_pct'], 6)} "
                         f"{f(t['steadiness_cv_pct'], 9)}")
        else:
            lines.append(f"{t['block']:10} {t['trial']:5}  {t['feedback']:10} "
                         f"{f(t['time_in_band_pct'], 10)} {f(t['rmse_n'], 7, 2)} "
                         f"{f(t['cv_pct'], 5)} {f(t['time_to_band_s'], 10)} "
                         f"{t['overshoots']:5} {f(t['drift_n_per_s'], 10, 3)}")
    for name, s in out["blocks"].items():
        key = "rate_abs_error_pct" if ramp else "time_in_band_pct"
        lines.append(f"{name} block: {s['trials']} trials, "
                     + (f"rate error {f(s.get(key), 0)} %, consistency CV "
                        f"{f(s.get('rate_consistency_cv_pct'), 0)} %" if ramp else
                        f"in band {f(s.get(key), 0)} %, RMSE {f(s.get('rmse_n'), 0, 2)} N"))
    if out["asks"]:
        lines.append(f"feedback asked {len(out['asks'])} times")
    if out.get("retention_due_on"):
        lines.append(f"retention block due on {out['retention_due_on']}: tpforce train "
                     f"--preset {out['drill']} --block retention --trainee ID")
    if out.get("error"):
        lines.append(f"stopped: {out['error']}")
    return "\n".join(lines)


def run_window(args: argparse.Namespace, drill: Drill, blocks: tuple[str, ...]) -> int:
    """`tpforce train` without --headless: the Practice window until the drill ends; 130, and
    nothing kept, when Ctrl-C or SIGTERM stops it (as headless)."""
    from PyQt5 import QtCore, QtWidgets

    from tpforce.ui.loop import run_until_closed
    from tpforce.ui.practice import PracticeWindow
    from tpforce.ui.sound import SoundPlayer

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    run, pipeline = open_drill(args, drill, blocks, args.speed or 1.0)
    try:
        win = PracticeWindow(run, SoundPlayer())
        win.resize(900, 900)
        win.show()
        done = QtCore.QTimer()
        linger = QtCore.QTimer()  # the last result stays in view
        linger.setSingleShot(True)
        linger.timeout.connect(app.quit)

        def check() -> None:
            if run.done.is_set():
                done.stop()
                linger.start(3000)

        done.timeout.connect(check)
        done.start(200)
        try:
            code = run_until_closed(app, win, label="practice window")
        finally:
            done.stop()
            linger.stop()
    finally:
        pipeline.close()
    if code:
        return code
    out = run.outcome()
    _finish(args, drill, out)
    return 0 if out["complete"] else 1
