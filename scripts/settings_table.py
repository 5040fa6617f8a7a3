"""The README's settings table, made from the Settings model.

    python scripts/settings_table.py           # print it
    python scripts/settings_table.py --write   # replace the table in README.md
"""
import re
import sys
from pathlib import Path

from passage.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- settings:start[^>]*-->\n).*?(<!-- settings:end -->)", re.S)


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(secret, empty)" if name.endswith("api_key") else ("unset" if default is None else str(default))
        rows.append(f"| `PASSAGE_{name.upper()}` | `{shown}` | {field.description} |")
    return "\n".join(rows)


def readme_with_table(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + table() + "\n" + m.group(2), text)


if __name__ == "__main__":
    if "--write" in sys.argv:
        README.write_text(readme_with_table(README.read_text()))
    else:
        print(table())
