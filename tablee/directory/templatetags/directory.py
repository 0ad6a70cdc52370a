"""Template filters of the directory: hours in plain French, the "à vérifier" flag, code labels."""

from django import template

from tablee.directory.filters import is_to_check
from tablee.directory.forms import MOBILISABLE_BY, MOBILISATION_MODES, RECEPTION_MODES
from tablee.directory.hours import describe_opening_hours

register = template.Library()

CODE_LABELS = {
    "reception": dict(RECEPTION_MODES),
    "mobilisation": dict(MOBILISATION_MODES),
    "mobilisable": dict(MOBILISABLE_BY),
}


@register.filter
def opening_hours(value) -> list[str]:
    """``"Mo-Fr 09:00-12:00"`` -> ``["lundi au vendredi : 9 h–12 h", ...]``."""
    return describe_opening_hours(value or "")


@register.filter
def open_hours(value) -> list[str]:
    """Like ``opening_hours`` without the "… : fermé" lines (for the stops of a round)."""
    return [line for line in describe_opening_hours(value or "") if not line.endswith(": fermé")]


@register.filter
def to_check(updated_on) -> bool:
    """Whether information dated ``updated_on`` is more than twelve months old."""
    return updated_on is not None and is_to_check(updated_on)


@register.filter
def code_labels(codes, kind: str) -> str:
    """A list of data·inclusion codes as their French labels, comma-separated."""
    labels = CODE_LABELS.get(kind, {})
    return ", ".join(labels.get(code, code) for code in codes or [])
