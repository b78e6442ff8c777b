"""`tpforce demo`: the live display (or a text readout) on the built-in simulated probe."""

from __future__ import annotations

import argparse
import sys
import time

from tpforce.cli.argtypes import positive, rate_sps
from tpforce.cli.live import add_window_args, launch_window
from tpforce.cli.wiring import SIM_PORT, Pipeline, open_pipeline, qt_display_problem
from tpforce.core.events import Zone
from tpforce.core.tracker import HoldConfig


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="live display on the built-in simulated probe",
                       description=__doc__)
    p.add_argument("--headless", action="store_true", help="print a text readout, no window")
    p.add_argument("--rate", type=rate_sps, default=80, metavar="SPS", help="samples per second")
    p.add_argument("--speed", type=positive, default=1.0, help="simulated time per real second")
    add_window_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start the simulated probe and show it."""
    if not args.headless:
        problem = qt_display_problem()
        if problem:
            print(f"tpforce demo: {problem}", file=sys.stderr)
            return 2
    with open_pipeline(SIM_PORT, sim_options={"rate_sps": args.rate, "speed": args.speed},
                       hold=HoldConfig(target_s=args.target or 30.0)) as pipeline:
        if args.headless:
            return _headless(pipeline, args.duration)
        return launch_window(pipeline, args, "tpforce demo - simulated probe")


def _headless(pipeline: Pipeline, duration_s: float | None) -> int:
    """Print about five readings a second until the duration ends or Ctrl-C."""
    start = time.monotonic()
    last_count = -1
    print("    t_s   raw_counts   force_n  zone          hold_s", flush=True)
    try:
        while duration_s is None or time.monotonic() - start < duration_s:
            time.sleep(0.2)
            for event in pipeline.events.drain():
                if type(event).__name__ not in ("ZoneChanged", "ButtonChanged"):
                    print(f"  # {event}", flush=True)
            data = pipeline.ring.latest(1)
            state = pipeline.processor.state
            if len(data) == 0 or pipeline.ring.count == last_count:
                print("  NO SIGNAL", flush=True)
                continue
            last_count = pipeline.ring.count
            zone = state.zone.name.lower() if state.zone != Zone.UNKNOWN else "unknown"
            hold = f"{state.in_band_s:6.1f}" if state.hold_active else "     -"
            print(f"{data['t_s'][0]:7.2f}  {data['raw'][0]:11d}  {data['force_n'][0]:8.2f}  "
                  f"{zone:12s}  {hold}", flush=True)
    except KeyboardInterrupt:
        pass
    return 0
