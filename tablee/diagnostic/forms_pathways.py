from django import forms

from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.diagnostic.models import Need, Pathway, PathwayStep
from tablee.directory.models import Structure


class PathwayForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Pathway
        fields = ["title", "persona"]
        widgets = {"persona": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "title": "Par exemple : « Obtenir un premier colis alimentaire ».",
            "persona": (
                "Une situation type, jamais une personne réelle : « mère seule avec deux enfants, "
                "sans voiture, commune rurale ». Ni nom, ni âge exact, ni donnée de santé."
            ),
        }


class PathwayEditForm(VersionedForm, PathwayForm):
    class Meta(PathwayForm.Meta):
        pass


class StepForm(StyledFormMixin, forms.ModelForm):
    """A step: only the structures and needs of the pathway's territory are offered."""

    class Meta:
        model = PathwayStep
        fields = [
            "structure",
            "structure_type",
            "description",
            "delay_days",
            "distance_km",
            "break_after",
            "break_needs",
        ]
        # French decimal commas: "12,5 km".
        localized_fields = ["distance_km"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "break_after": forms.Textarea(attrs={"rows": 3}),
            "break_needs": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "structure": "Une structure de l'annuaire du territoire, ou à défaut un type ci-dessous.",
            "description": (
                "Par exemple : « entretien avec l'assistante sociale, orientation vers l'épicerie "
                "solidaire ». Ni nom ni donnée de santé."
            ),
            "delay_days": "Le temps d'attente avant cette étape, en jours.",
            "distance_km": "La distance à parcourir pour s'y rendre, en kilomètres.",
            "break_after": (
                "Ce qui fait que la personne n'arrive pas à l'étape suivante. Laissez vide s'il "
                "n'y a pas de rupture."
            ),
        }

    def __init__(self, *args, programme_territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = (
            Structure.objects.in_territory(programme_territory.territory_id)
            .select_related("commune")
            .order_by("name")
        )
        self.fields["structure"].empty_label = "— Aucune structure précise —"
        self.fields["break_needs"].queryset = Need.objects.filter(
            programme_territory=programme_territory
        ).order_by("title")
        self.fields["break_needs"].label = "Besoins liés à la rupture"
        self.fields["distance_km"].widget.attrs["inputmode"] = "decimal"

    def clean_distance_km(self):
        distance = self.cleaned_data.get("distance_km")
        if distance is not None and distance < 0:
            raise forms.ValidationError("La distance ne peut pas être négative.")
        return distance

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("structure") and not (cleaned.get("structure_type") or "").strip():
            self.add_error(
                "structure_type", "Choisissez une structure du territoire ou indiquez un type."
            )
        return cleaned

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        return {"break_needs": data.pop("break_needs"), **data}
