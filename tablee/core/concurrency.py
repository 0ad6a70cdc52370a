"""Optimistic concurrency: two people editing the same record never silently overwrite each other.

Each editable model has an integer ``version``. The form carries the version that was read; the
service locks the row, compares, and refuses with the values now stored when they differ.
"""

from django import forms
from django.core.exceptions import ValidationError


class EditConflict(ValidationError):
    """The record changed since the form was opened. ``current`` maps field labels to stored values."""

    def __init__(self, current: dict[str, str]):
        self.current = current
        super().__init__(
            "Quelqu'un d'autre a modifié cette fiche pendant que vous la modifiiez. Vos changements "
            "n'ont pas été enregistrés : comparez avec les valeurs enregistrées ci-dessous, puis "
            "recommencez.",
            code="edit_conflict",
        )


class VersionedForm(forms.ModelForm):
    """A ModelForm that carries the version of the record it was opened on."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version


def check_version(locked_instance, expected_version: int, fields: list[str]) -> None:
    """Raise EditConflict when ``locked_instance`` (read with select_for_update) has moved on."""
    if locked_instance.version != expected_version:
        meta = locked_instance._meta
        current = {
            str(meta.get_field(name).verbose_name): _display(locked_instance, name)
            for name in fields
        }
        raise EditConflict(current)


def _display(instance, name: str) -> str:
    getter = getattr(instance, f"get_{name}_display", None)
    value = getter() if getter else getattr(instance, name)
    return "" if value is None else str(value)
