from django.shortcuts import render

from tablee.accounts.decorators import require
from tablee.accounts.permissions import Action


@require(Action.VIEW_REFERENTIAL)
def index(request):
    return render(request, "territories/referential/index.html", {})
