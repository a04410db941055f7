"""What every section's table of figures is made of: a figure beside the previous period's, and
the note of the chosen cuts it does not take."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from kpis.chain import STAGE_NAMES
from kpis.tables import Column, Table


def figure(label, kind, now, before, note: str | None = None) -> list:
    """A figure beside the previous period's; ``note``: the chosen cuts it does not take."""
    return [str(label), now, before, kind, note]


def figures_table(name: str, title, figures_rows: list[list]) -> Table:
    """Rows of (label, value, previous value, kind, note): shown with their own kinds; a column
    of notes when a chosen cut does not apply to some figure."""
    columns = [Column(_l("Figure"), "text"), Column(_l("This period"), "any"), Column(_l("Previous period"), "any")]
    noted = any(row[4] for row in figures_rows)
    if noted:
        columns.append(Column(_l("Cuts"), "text"))
    table = Table(name, title, columns)
    for label, now, before, kind, note in figures_rows:
        table.rows.append([label, (now, kind), (before, kind)] + ([note or ""] if noted else []))
    return table


def stage_name(kind: str | None) -> str:
    return str(STAGE_NAMES[kind]) if kind in STAGE_NAMES else str(_l("No bottleneck"))
