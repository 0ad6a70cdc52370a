from django.urls import path

from tablee.accounts import views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("mot-de-passe/oubli/", views.password_reset_view, name="password_reset"),
    path("mot-de-passe/oubli/envoye/", views.password_reset_done_view, name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/termine/",
        views.password_reset_complete_view,
        name="password_reset_complete",
    ),
    path("utilisateurs/", views.user_list, name="user_list"),
    path("utilisateurs/inviter/", views.user_invite, name="user_invite"),
    path("utilisateurs/<uuid:pk>/", views.user_detail, name="user_detail"),
    path("utilisateurs/<uuid:pk>/roles/ajouter/", views.membership_add, name="membership_add"),
    path(
        "utilisateurs/<uuid:pk>/roles/<uuid:membership_pk>/retirer/",
        views.membership_remove,
        name="membership_remove",
    ),
    path("utilisateurs/<uuid:pk>/desactiver/", views.user_deactivate, name="user_deactivate"),
    path("journal/", views.audit_list, name="audit_list"),
]
