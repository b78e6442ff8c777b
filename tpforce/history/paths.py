"""Where patient data lives: the per-user data folder, made private (folders 0700, files 0600).

The folder follows each platform's convention, the rules `platformdirs` uses, written out so
no extra package is needed: Linux and BSD `$XDG_DATA_HOME/tpforce` (default
`~/.local/share/tpforce`), macOS `~/Library/Application Support/tpforce`, Windows
`%LOCALAPPDATA%\\tpforce`. `TPFORCE_DATA_DIR` overrides it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "tpforce"
DB_FILE = "history.sqlite3"


def user_data_dir() -> Path:
    """The per-user data folder of tpforce (not created)."""
    override = os.environ.get("TPFORCE_DATA_DIR")
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / APP
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base_path = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base_path / APP


def default_db_path() -> Path:
    """The SQLite history file used when no database URL is configured."""
    return user_data_dir() / DB_FILE


def private_dir(path: Path, own: bool = False) -> Path:
    """Create `path` and its missing parents as folders only their owner can enter (0700).

    Folders that already exist are left as they are, unless `own` says `path` is tpforce's
    own folder (the per-user data folder), which is then made 0700 too."""
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    if own:
        os.chmod(path, 0o700)
    return path


def private_write(path: Path, data: str | bytes) -> None:
    """Write a file only its owner can read (0600), via a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    raw = data.encode() if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
