"""`tpforce ports`: the serial ports on this machine, and which of them is a tpforce probe."""

from __future__ import annotations

import argparse
import sys

from tpforce.cli.argtypes import positive
from tpforce.io.ports import list_serial_ports, probe_ports


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(name, help="list serial ports and find the probe", description=__doc__)
    p.add_argument("--no-probe", action="store_true",
                   help="only list; do not send HELLO to USB ports")
    p.add_argument("--timeout", type=positive, default=2.5, metavar="S",
                   help="how long to wait for a probe to answer (boards reset on open)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per port; probes are marked with their serial number and firmware."""
    ports = list_serial_ports()
    if not ports:
        print("no serial ports found; plug the probe in (a charge-only USB cable carries no "
              "data)", file=sys.stderr)
        return 1
    usb = [p for p in ports if p.vid is not None]
    if not args.no_probe:
        answered = {p.device: p for p in probe_ports(usb, args.timeout)}
        ports = [answered.get(p.device, p) for p in ports]
    width = max(len(p.device) for p in ports)
    print(f"{'port':{width}}  {'VID:PID':9}  {'serial':16}  description")
    for p in ports:
        mark = ""
        if p.probe is not None:
            mark = f"  <- tpforce probe {p.probe.serial}, firmware {p.probe.firmware}, " \
                   f"{p.probe.rate_sps} sps"
        print(f"{p.device:{width}}  {p.usb_id:9}  {(p.serial_number or '-'):16}  "
              f"{p.description or '-'}{mark}")
    if args.no_probe:
        return 0
    probes = [p for p in ports if p.probe is not None]
    if not probes:
        asked = (f"none of the {len(usb)} USB serial port(s) answered HELLO" if usb
                 else "no USB serial port is plugged in")
        print(f"no tpforce probe found: {asked}; plug the probe in with a data cable and "
              "check its firmware is flashed")
        return 1
    return 0
