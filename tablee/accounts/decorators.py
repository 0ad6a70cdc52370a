from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from tablee.accounts.permissions import Action, can


def require(action: Action):
    """Sign-in required, then an instance-wide permission; refused with a 403 page in French.

    Object permissions are checked in the view, after a lookup filtered by scope (404 outside it).
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not can(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
