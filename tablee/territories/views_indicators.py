from collections import defaultdict

from django.contrib import messages
from django.db.models import Count, Max
from django.shortcuts import redirect, render

from tablee.accounts.decorators import require
from tablee.accounts.permissions import Action, can
from tablee.core.pagination import paginate
from tablee.core.spreadsheets import MAX_SHOWN_PROBLEMS, SpreadsheetRejected
from tablee.territories.forms_indicators import IndicatorImportForm
from tablee.territories.indicators import indicators_import
from tablee.territories.models import GeoLevel, IndicatorValue


@require(Action.VIEW_REFERENTIAL)
def indicator_list(request):
    """Every imported indicator, one line per code and level, with its years and value count."""
    indicators = (
        IndicatorValue.objects.values("code", "level")
        .annotate(indicator_label=Max("label"), value_count=Count("id"))
        .order_by("code", "level")
    )
    page = paginate(request, indicators)
    keys = [(item["code"], item["level"]) for item in page]
    years = defaultdict(list)
    if keys:
        # One query for the years of the whole page, not one per indicator.
        found = (
            IndicatorValue.objects.filter(code__in={code for code, _ in keys})
            .values_list("code", "level", "year")
            .distinct()
            .order_by("year")
        )
        for code, level, year in found:
            years[(code, level)].append(year)
    level_labels = dict(GeoLevel.choices)
    rows = [
        {
            **item,
            "level_label": level_labels.get(item["level"], item["level"]),
            "years": years[(item["code"], item["level"])],
        }
        for item in page
    ]
    return render(
        request,
        "territories/indicators/list.html",
        {
            "page": page,
            "rows": rows,
            "querystring": "",
            "can_import": can(request.user, Action.IMPORT_INDICATORS),
        },
    )


@require(Action.IMPORT_INDICATORS)
def indicator_import(request):
    form = IndicatorImportForm(request.POST or None, request.FILES or None)
    rejected = None
    if request.method == "POST" and form.is_valid():
        try:
            result = indicators_import(
                file=form.cleaned_data["file"],
                level=form.cleaned_data["level"],
                year=form.cleaned_data["year"],
                source=form.cleaned_data["source"],
                acting_user=request.user,
            )
        except SpreadsheetRejected as exc:
            rejected = exc
        else:
            messages.success(
                request,
                f"Import terminé pour {result.year} : {result.created} valeur(s) créée(s), "
                f"{result.updated} mise(s) à jour, pour {result.indicators} indicateur(s) et "
                f"{result.geo_units} unité(s) géographique(s) ; {result.skipped} cellule(s) vide(s) "
                "ou sous secret ignorée(s).",
            )
            return redirect("indicators:list")
    return render(
        request,
        "territories/indicators/import.html",
        {"form": form, "rejected": rejected, "max_shown": MAX_SHOWN_PROBLEMS},
    )
