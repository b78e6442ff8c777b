"""Options for the simulated cell's true parameters, shared by `tpforce sim` and `calibrate`."""

from __future__ import annotations

import argparse

from tpforce.cli.argtypes import non_negative, positive
from tpforce.io.sim.cell import CellParams, SimCell

_DEFAULT = CellParams()


def add_cell_args(p: argparse.ArgumentParser) -> None:
    """The `--cell-*` options (the defaults are the built-in probe's ideal 10 kg cell)."""
    g = p.add_argument_group("simulated cell (true parameters)")
    g.add_argument("--cell-scale", type=positive, default=_DEFAULT.counts_per_n,
                   metavar="COUNTS_PER_N", help="counts per newton (default %(default)g)")
    g.add_argument("--cell-offset", type=int, default=_DEFAULT.zero_counts, metavar="COUNTS",
                   help="counts at no load (default %(default)s)")
    g.add_argument("--cell-capacity", type=positive, default=_DEFAULT.capacity_kg, metavar="KG",
                   help="rated capacity (default %(default)g kg)")
    g.add_argument("--cell-nonlin", type=non_negative, default=0.0, metavar="PCT_FS",
                   help="non-linearity at half capacity, %% of capacity")
    g.add_argument("--cell-hysteresis", type=non_negative, default=0.0, metavar="PCT_FS",
                   help="up/down difference at half capacity, %% of capacity")
    g.add_argument("--cell-noise", type=non_negative, default=_DEFAULT.noise_counts,
                   metavar="COUNTS", help="noise, counts RMS (default %(default)g)")
    g.add_argument("--cell-creep", type=non_negative, default=0.0, metavar="PCT_30MIN",
                   help="creep of a constant load, %% after 30 min")
    g.add_argument("--cell-creep-tau", type=positive, default=_DEFAULT.creep_tau_s, metavar="S",
                   help="creep time constant (default %(default)g s)")


def cell_from_args(args: argparse.Namespace, bench: bool = False) -> SimCell:
    """The simulated cell the options describe."""
    return SimCell(CellParams(
        zero_counts=args.cell_offset, counts_per_n=args.cell_scale,
        capacity_kg=args.cell_capacity, non_linearity_pct=args.cell_nonlin,
        hysteresis_pct=args.cell_hysteresis, noise_counts=args.cell_noise,
        creep_pct_30min=args.cell_creep, creep_tau_s=args.cell_creep_tau), bench=bench)
