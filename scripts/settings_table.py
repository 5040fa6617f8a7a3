"""Print the README's settings table from the Settings model: `python scripts/settings_table.py`."""
from passage.settings import Settings


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(secret, empty)" if name.endswith("api_key") else ("unset" if default is None else str(default))
        rows.append(f"| `PASSAGE_{name.upper()}` | `{shown}` | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
