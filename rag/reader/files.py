"""Reading the reader's versioned JSON files (weights.json): shipped beside the
code or named by path; an unreadable or stale file is a ConfigError that says how to rebuild it."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from passage.errors import ConfigError


def read_versioned(path: Path | None, name: str, fmt: int, what: str, remedy: str) -> tuple[dict, str]:
    """The file's JSON object and how to name it in messages: `path`, or `name` in this package."""
    where = str(path or name)
    try:
        text = path.read_text(encoding="utf-8") if path else resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the reader's {what} {where}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != fmt:
        found = data.get("format") if isinstance(data, dict) else "?"
        raise ConfigError(f"{where}: {what} file format {found!r}, this version reads format {fmt}; {remedy}")
    return data, where
