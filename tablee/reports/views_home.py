"""The home page of a signed-in person: what needs their attention, then their programmes.

It lives here, at the end of the cycle, because it reads every stage; config/urls_home.py keeps
its historical name ``core:home``.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tablee.accounts.permissions import Action, can
from tablee.reports.attention import attention_for
from tablee.territories.models import Programme, ProgrammeTerritory


@login_required
def home(request):
    programmes = Programme.objects.for_user(request.user).order_by("-start_date", "name")
    territories = (
        ProgrammeTerritory.objects.for_user(request.user)
        .select_related("territory", "programme")
        .order_by("programme__name", "territory__name")
    )
    return render(
        request,
        "reports/home.html",
        {
            "programmes": programmes,
            "territories": territories,
            "attention": attention_for(request.user),
            "can_create_programme": can(request.user, Action.CREATE_PROGRAMME),
        },
    )
