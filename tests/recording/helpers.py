"""Helpers for the recording tests: a version-1 recording writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tpforce.core.events import Event
from tpforce.io.recorder import event_to_dict


def write_v1(path: Path, items: list[np.ndarray | Event], meta: dict | None = None) -> None:
    """A version-1 folder exactly as docs/recording-format.md describes it."""
    path.mkdir()
    (path / "meta.json").write_text(json.dumps(
        {"format": "tpforce-recording", "version": 1,
         "columns": ["batch", "t_s", "t_host_s", "seq", "raw", "force_n", "flags"],
         **(meta or {})}))
    rows, lines, n, b = ["batch,t_s,t_host_s,seq,raw,force_n,flags"], [], 0, 0
    for item in items:
        if isinstance(item, np.ndarray):
            for r in item:
                rows.append(f"{b},{float(r['t_s'])!r},{float(r['t_host_s'])!r},{int(r['seq'])},"
                            f"{int(r['raw'])},{float(r['force_n'])!r},{int(r['flags'])}")
            n += len(item)
            b += 1
        else:
            lines.append(json.dumps({"after": n, **event_to_dict(item)}))
    (path / "samples.csv").write_text("\n".join(rows) + "\n")
    (path / "events.jsonl").write_text("".join(line + "\n" for line in lines))
