from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tablee.accounts.permissions import Action, can
from tablee.territories.models import Programme, ProgrammeTerritory


@login_required
def home(request):
    """What needs the user's attention. For now: the programmes and territories within reach."""
    programmes = Programme.objects.for_user(request.user).order_by("-start_date", "name")
    territories = (
        ProgrammeTerritory.objects.for_user(request.user)
        .select_related("territory", "programme")
        .order_by("programme__name", "territory__name")
    )
    return render(
        request,
        "core/home.html",
        {
            "programmes": programmes,
            "territories": territories,
            "can_create_programme": can(request.user, Action.CREATE_PROGRAMME),
        },
    )


def csrf_failure(request, reason=""):
    return render(request, "core/csrf_failure.html", status=403)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
