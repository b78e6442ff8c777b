"""`tpforce sim`: run the simulated probe on a pty for other programs, with faults on demand.

Point `tpforce stream` or `tpforce live` at the printed port (or at `--port-link`, a symlink
that follows the probe across unplugs) to rehearse a yanked cable, a noisy adapter or a
board that resets, e.g. `tpforce sim --port-link /tmp/tpforce-sim --corrupt 0.01
--unplug-every 20`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading

from tpforce.cli.argtypes import non_negative, rate_sps
from tpforce.cli.cellargs import add_cell_args, cell_from_args
from tpforce.io.sim.cell import SimCell
from tpforce.io.sim.faults import Faults
from tpforce.io.sim.hand import SCENARIOS, Hand, ScriptedIntent
from tpforce.io.sim.probe import SimProbe


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="run the simulated probe on a pty, with fault injection",
                       description=__doc__)
    p.add_argument("--port-link", metavar="PATH",
                   help="keep a symlink here to the probe's current pty")
    p.add_argument("--rate", type=rate_sps, default=80, metavar="SPS", help="samples per second")
    p.add_argument("--speed", type=non_negative, default=1.0, help="simulated time per real second")
    p.add_argument("--serial", default="SIM00001", help="the probe's serial number")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="demo",
                   help="what the simulated hand does (looping)")
    p.add_argument("--no-feedback", action="store_true",
                   help="the hand cannot see the force: holds sag by about 12 %% (tau 6.5 s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=non_negative, metavar="S", help="stop after S seconds")
    g = p.add_argument_group("faults")
    g.add_argument("--corrupt", type=float, default=0.0, metavar="P",
                   help="probability that a byte is corrupted (e.g. 0.01)")
    g.add_argument("--drop", type=float, default=0.0, metavar="P",
                   help="probability that a byte is lost")
    g.add_argument("--unplug-every", type=non_negative, default=0.0, metavar="S")
    g.add_argument("--unplug-for", type=non_negative, default=2.0, metavar="S")
    g.add_argument("--no-reset-on-replug", action="store_true",
                   help="keep counting through an unplug (a self-powered board)")
    g.add_argument("--reset-every", type=non_negative, default=0.0, metavar="S")
    g.add_argument("--stall-every", type=non_negative, default=0.0, metavar="S")
    g.add_argument("--stall-for", type=non_negative, default=0.5, metavar="S")
    add_cell_args(p)
    p.add_argument("--bench", action="store_true",
                   help="a calibration bench: each line typed on stdin is a mass in kg placed "
                        "on the cell (the hand is ignored)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start the probe, say where it is, and run until the duration ends or Ctrl-C."""
    from tpforce.cli import UserError

    for name in ("corrupt", "drop"):
        if not 0.0 <= getattr(args, name) < 1.0:
            raise UserError(f"--{name} is a probability: give a number from 0 to below 1")
    faults = Faults(corrupt=args.corrupt, drop=args.drop, unplug_every_s=args.unplug_every,
                    unplug_for_s=args.unplug_for, reset_on_replug=not args.no_reset_on_replug,
                    reset_every_s=args.reset_every, stall_every_s=args.stall_every,
                    stall_for_s=args.stall_for)
    intent = ScriptedIntent(SCENARIOS[args.scenario]())
    hand = Hand(seed=args.seed, feedback=not args.no_feedback)
    try:
        cell = cell_from_args(args, bench=args.bench)
        probe = SimProbe(rate_sps=args.rate, intent=intent, hand=hand, serial=args.serial,
                         speed=args.speed, seed=args.seed, faults=faults,
                         link_path=args.port_link, cell=cell)
    except OSError as exc:
        raise UserError(f"cannot create the simulated port ({exc.strerror}); check that "
                        f"{args.port_link or 'the pty device'} is writable") from None
    with probe:
        where = f" (link {args.port_link})" if args.port_link else ""
        print(f"simulated probe {args.serial} on {probe.port}{where}; Ctrl-C to stop",
              flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            if args.bench:
                _bench(cell)
            else:
                threading.Event().wait(args.duration)
    print(f"sent {probe.sent} samples, {probe.plugs} replugs, {probe.resets} resets",
          file=sys.stderr)
    return 0


def _bench(cell: SimCell) -> None:
    """Place each mass typed on stdin (kg per line) until the input ends."""
    for line in sys.stdin:
        try:
            mass = float(line)
        except ValueError:
            print(f"{line.strip()!r} is not a mass: type kilograms, e.g. 2.5", flush=True)
            continue
        cell.wait_placed(cell.place(mass))
        print(f"placed {mass:g} kg", flush=True)
