from django.shortcuts import render


def programme_list(request):
    return render(request, "territories/programme_list.html", {})
