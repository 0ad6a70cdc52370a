from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "core/csrf_failure.html", status=403)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
