"""Writes a calibration record into a probe's EEPROM (WRITE_CAL) and proves it by reading it back.

Works on any source object that sends protocol commands (`command`) and reads the stored
record (`read_calibration`), firmware/PROTOCOL.md: WRITE_CAL, READ_CAL.
"""

from __future__ import annotations

from typing import Protocol

from tpforce.core.protocol import CalRecord, FrameType

WRITE_TIMEOUT_S = 5.0  # the ATmega328P needs about 90 ms; a busy host much more


class CommandPort(Protocol):
    """What writing a record needs from a probe source."""

    def command(self, ftype: FrameType, args: bytes = b"", timeout: float = 1.0) -> object:
        """Send a command, wait for its ACK; raise on a refusal or no answer."""

    def read_calibration(self, timeout: float = 1.0) -> CalRecord | None:
        """The record the probe holds now (None if none)."""


class CalWriteError(Exception):
    """The probe did not take the record, or holds another one; the message says which."""


def write_calibration(source: CommandPort, record: CalRecord,
                      timeout: float = WRITE_TIMEOUT_S) -> CalRecord:
    """Send `record` with WRITE_CAL, read it back with READ_CAL; the probe's copy if it matches.

    Raises CalWriteError when the probe refuses (its reason named), does not answer, or reads
    back anything other than the bytes sent.
    """
    data = record.pack()
    try:
        source.command(FrameType.WRITE_CAL, data, timeout=timeout)
    except Exception as exc:  # the source's CommandError, whatever module it lives in
        raise CalWriteError(f"the probe did not store the calibration ({exc}); its previous "
                            "record is unchanged only if it said so: read it back with "
                            "'tpforce calibrate --verify'") from None
    try:
        stored = source.read_calibration(timeout=timeout)
    except Exception as exc:
        raise CalWriteError(f"the calibration was sent but could not be read back ({exc}); "
                            "write it again") from None
    if stored is None or stored.pack() != data:
        raise CalWriteError("the probe's EEPROM reads back a different record from the one "
                            "written: write it again; if it persists the EEPROM is worn")
    return stored
