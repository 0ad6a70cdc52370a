from django.conf import settings

from tablee.accounts.permissions import Action, can


def tablee(request):
    """Values every page needs: the map tiles and which menu entries the user may see."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "MAP_TILE_URL": settings.MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.MAP_TILE_ATTRIBUTION,
        "perms_menu": {
            "manage_users": signed_in and can(user, Action.MANAGE_USERS),
            "view_directory": signed_in and can(user, Action.VIEW_DIRECTORY),
        },
    }
