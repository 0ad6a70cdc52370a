"""User administration: list, invitation, memberships, deactivation. Administrators only."""

import re
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tablee.accounts import services
from tablee.accounts.models import AuditEvent, Membership, Role, User
from tablee.accounts.permissions import Action, can
from tablee.accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory
from tablee.directory.tests.factories import StructureFactory
from tablee.territories.models import Programme
from tablee.territories.tests.factories import ProgrammeFactory, ProgrammeTerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_account():
    return MembershipFactory(user__full_name="Alex Admin", role=Role.ADMIN).user


@pytest.fixture
def admin_client(client, admin_account):
    client.force_login(admin_account)
    return client


@pytest.fixture
def programme():
    return ProgrammeFactory(name="Mieux Manger en Centre Bretagne")


@pytest.fixture
def programme_territory(programme):
    return ProgrammeTerritoryFactory(programme=programme, territory__name="CC du Kreiz Breizh")


@pytest.fixture
def structure():
    return StructureFactory(name="Épicerie solidaire de Rostrenen")


@pytest.fixture
def camille(programme):
    membership = MembershipFactory(
        user__email="camille@example.org",
        user__full_name="Camille Martin",
        role=Role.COORDINATOR,
        programme=programme,
    )
    return membership.user


def text(response) -> str:
    """The page as a reader sees it: HTML entities decoded."""
    return unescape(response.content.decode())


def counts() -> tuple[int, int, int]:
    """What a refused form must leave untouched: users, memberships, audit events."""
    return User.objects.count(), Membership.objects.count(), AuditEvent.objects.count()


# ---- Who may open the pages ---------------------------------------------------------------------


def page_urls(account, membership) -> dict[str, str]:
    return {
        "user_list": reverse("accounts:user_list"),
        "user_invite": reverse("accounts:user_invite"),
        "user_detail": reverse("accounts:user_detail", args=[account.pk]),
        "membership_add": reverse("accounts:membership_add", args=[account.pk]),
        "membership_remove": reverse(
            "accounts:membership_remove", args=[account.pk, membership.pk]
        ),
        "user_deactivate": reverse("accounts:user_deactivate", args=[account.pk]),
        "audit_list": reverse("accounts:audit_list"),
    }


PAGES = [
    "user_list",
    "user_invite",
    "user_detail",
    "membership_add",
    "membership_remove",
    "user_deactivate",
    "audit_list",
]


@pytest.fixture
def people(programme, programme_territory, structure):
    """One signed-in person per role that is not admin, plus one without any role."""
    return {
        "coordinator": MembershipFactory(role=Role.COORDINATOR, programme=programme).user,
        "territory coordinator": MembershipFactory(
            role=Role.COORDINATOR, programme_territory=programme_territory
        ).user,
        "partner": MembershipFactory(role=Role.PARTNER, structure=structure).user,
        "local authority": MembershipFactory(
            role=Role.LOCAL_AUTHORITY, programme_territory=programme_territory
        ).user,
        "funder": MembershipFactory(role=Role.FUNDER, programme=programme).user,
        "no role": UserFactory(),
    }


@pytest.mark.parametrize("page", PAGES)
def test_admin_opens_every_page(admin_client, camille, page):
    url = page_urls(camille, camille.memberships.get())[page]

    response = admin_client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "person",
    ["coordinator", "territory coordinator", "partner", "local authority", "funder", "no role"],
)
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_other_roles_are_refused_every_page(client, people, camille, person, page, method):
    url = page_urls(camille, camille.memberships.get())[page]
    client.force_login(people[person])
    before = counts()

    response = getattr(client, method)(url)

    assert response.status_code == 403
    assert "Accès refusé" in text(response)
    assert counts() == before
    assert Membership.objects.filter(user=camille).count() == 1
    camille.refresh_from_db()
    assert camille.is_active


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(client, camille, page):
    url = page_urls(camille, camille.memberships.get())[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


# ---- The list --------------------------------------------------------------------------------


def test_user_list_shows_people_with_their_roles(
    admin_client, django_assert_num_queries, programme, programme_territory, structure
):
    MembershipFactory(
        user__full_name="Dominique Partenaire", role=Role.PARTNER, structure=structure
    )
    MembershipFactory(
        user__full_name="Elouan Élu",
        role=Role.LOCAL_AUTHORITY,
        programme_territory=programme_territory,
    )
    MembershipFactory(user__full_name="Fanny Financeuse", role=Role.FUNDER, programme=programme)
    UserFactory(full_name="Gaëlle Sans-Rôle")

    # 1 session, 2 signed-in user, 3 their memberships (permission check), 4 count of users,
    # 5 the page of users, 6 their memberships with programme, territory and structure.
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("accounts:user_list"))

    html = text(response)
    assert "5 comptes" in html
    assert "Partenaire — structure Épicerie solidaire de Rostrenen" in html
    assert "Collectivité — territoire CC du Kreiz Breizh" in html
    assert "Financeur — programme Mieux Manger en Centre Bretagne" in html
    assert "Administrateur·ice — toute l'instance" in html
    assert "Aucun rôle" in html


def test_user_list_searches_name_and_email(admin_client):
    UserFactory(full_name="Camille Martin", email="cmartin@example.org")
    UserFactory(full_name="Jean Dupont", email="jean.dupont@asso.example")

    by_name = text(admin_client.get(reverse("accounts:user_list"), {"q": "martin"}))
    by_email = text(admin_client.get(reverse("accounts:user_list"), {"q": "asso.example"}))

    assert "Camille Martin" in by_name and "Jean Dupont" not in by_name
    assert "1 compte pour « martin »" in by_name
    assert "Jean Dupont" in by_email and "Camille Martin" not in by_email


def test_user_list_sorts_and_paginates(admin_client, admin_account):
    for n in range(55):
        UserFactory(full_name=f"Personne {n:02d}", email=f"p{n:02d}@example.org")

    first = admin_client.get(reverse("accounts:user_list"), {"tri": "-nom"})
    second = admin_client.get(reverse("accounts:user_list"), {"tri": "-nom", "page": 2})

    names = [u.full_name for u in first.context["page"].object_list]
    assert names[:2] == ["Personne 54", "Personne 53"]
    assert len(names) == 50
    assert "Page 1 sur 2" in text(first)
    assert "tri=-nom&page=2" in text(first)
    assert [u.full_name for u in second.context["page"].object_list][-1] == "Alex Admin"


def test_user_list_ignores_an_unknown_sort(admin_client):
    response = admin_client.get(reverse("accounts:user_list"), {"tri": "password"})

    assert response.status_code == 200
    assert response.context["sort"] == "nom"


def test_user_detail_shows_memberships(admin_client, django_assert_num_queries, camille, structure):
    MembershipFactory(user=camille, role=Role.PARTNER, structure=structure)

    # 1 session, 2 signed-in user, 3 their memberships, 4 the user shown,
    # 5 their memberships with scope.
    with django_assert_num_queries(5):
        response = admin_client.get(reverse("accounts:user_detail", args=[camille.pk]))

    html = text(response)
    assert "<h1>Camille Martin</h1>" in html
    assert "Programme Mieux Manger en Centre Bretagne" in html
    assert "Structure Épicerie solidaire de Rostrenen" in html
    assert "Désactiver ce compte" in html


def test_user_detail_of_an_unknown_user_is_404(admin_client):
    response = admin_client.get(
        reverse("accounts:user_detail", args=["00000000-0000-0000-0000-000000000000"])
    )

    assert response.status_code == 404


# ---- Invitation ----------------------------------------------------------------------------------


def invite(admin_client, **data):
    return admin_client.post(reverse("accounts:user_invite"), data)


def test_invitation_end_to_end(
    admin_client, admin_account, programme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            admin_client,
            email="Nouvelle.Personne@Example.org",
            full_name="Nouvelle Personne",
            role=Role.COORDINATOR,
            scope=f"programme:{programme.pk}",
        )

    invited = User.objects.get(email="nouvelle.personne@example.org")
    assert response.status_code == 302
    assert response.url == reverse("accounts:user_detail", args=[invited.pk])
    assert not invited.has_usable_password()
    membership = invited.memberships.get()
    assert (membership.role, membership.programme) == (Role.COORDINATOR, programme)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvelle.personne@example.org"]
    assert message.subject == "Tablée : votre compte vous attend"
    assert "Alex Admin vous a créé un compte sur Tablée" in message.body
    link = re.search(r"http://testserver(/\S+)", message.body).group(1)

    # The invited person opens the link in their own browser and chooses a password.
    browser = Client()
    form_page = browser.get(link, follow=True)
    assert "Choisir un mot de passe" in text(form_page)
    password = "Ma-Tablee-Perso-2026!"
    done = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.url == reverse("accounts:password_reset_complete")

    login = browser.post(
        reverse("accounts:login"),
        {"username": "nouvelle.personne@example.org", "password": password},
    )
    assert login.status_code == 302
    assert browser.session["_auth_user_id"] == str(invited.pk)


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {"email": "pas-une-adresse", "full_name": "X", "role": "admin", "scope": "instance"},
            "email",
            "Saisissez une adresse de courriel valide.",
        ),
        (
            {
                "email": "CAMILLE@example.org",
                "full_name": "X",
                "role": "admin",
                "scope": "instance",
            },
            "email",
            "Un compte existe déjà avec cette adresse e-mail.",
        ),
        (
            {"email": "x@example.org", "full_name": "", "role": "admin", "scope": "instance"},
            "full_name",
            "Ce champ est obligatoire.",
        ),
        (
            {"email": "x@example.org", "full_name": "X", "role": "chef", "scope": "instance"},
            "role",
            "Sélectionnez un choix valide.",
        ),
        (
            {"email": "x@example.org", "full_name": "X", "role": "admin", "scope": "programme:123"},
            "scope",
            "Sélectionnez un choix valide.",
        ),
    ],
)
def test_invitation_refuses_bad_input(admin_client, camille, data, field, message):
    before = counts()

    response = invite(admin_client, **data)

    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert counts() == before
    assert mail.outbox == []


def test_invitation_refuses_a_scope_that_does_not_fit_the_role(
    admin_client, programme, django_capture_on_commit_callbacks
):
    before = counts()

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            admin_client,
            email="x@example.org",
            full_name="X",
            role=Role.PARTNER,
            scope=f"programme:{programme.pk}",
        )

    assert response.status_code == 200
    assert "Le rôle « Partenaire » porte sur une structure." in text(response)
    assert counts() == before
    assert mail.outbox == []


# ---- Memberships -------------------------------------------------------------------------------


def scope_value(kind, programme, programme_territory, structure):
    return {
        "instance": "instance",
        "programme": f"programme:{programme.pk}",
        "territory": f"territoire:{programme_territory.pk}",
        "structure": f"structure:{structure.pk}",
    }[kind]


@pytest.mark.parametrize(
    "role, kind, fits",
    [
        (Role.ADMIN, "instance", True),
        (Role.ADMIN, "programme", False),
        (Role.ADMIN, "structure", False),
        (Role.COORDINATOR, "programme", True),
        (Role.COORDINATOR, "territory", True),
        (Role.COORDINATOR, "structure", False),
        (Role.COORDINATOR, "instance", False),
        (Role.PARTNER, "structure", True),
        (Role.PARTNER, "programme", False),
        (Role.PARTNER, "territory", False),
        (Role.LOCAL_AUTHORITY, "territory", True),
        (Role.LOCAL_AUTHORITY, "programme", False),
        (Role.LOCAL_AUTHORITY, "instance", False),
        (Role.FUNDER, "programme", True),
        (Role.FUNDER, "territory", False),
        (Role.FUNDER, "structure", False),
    ],
)
def test_membership_scope_must_fit_the_role(
    admin_client, programme, programme_territory, structure, role, kind, fits
):
    account = UserFactory()
    before = counts()

    response = admin_client.post(
        reverse("accounts:membership_add", args=[account.pk]),
        {"role": role, "scope": scope_value(kind, programme, programme_territory, structure)},
    )

    if fits:
        assert response.status_code == 302
        assert account.memberships.get().role == role
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.MEMBERSHIP_ADDED)
        assert event.detail["user"] == str(account.pk)
    else:
        assert response.status_code == 200
        errors = response.context["form"].non_field_errors()
        assert errors[0].startswith(("Le rôle « ", "Un rôle d'administration porte sur toute"))
        assert counts() == before


def test_the_same_membership_cannot_be_given_twice(admin_client, camille, programme):
    before = counts()

    response = admin_client.post(
        reverse("accounts:membership_add", args=[camille.pk]),
        {"role": Role.COORDINATOR, "scope": f"programme:{programme.pk}"},
    )

    assert "Ce compte a déjà ce rôle sur ce périmètre." in text(response)
    assert counts() == before


def test_membership_removal_asks_for_confirmation_first(admin_client, camille):
    membership = camille.memberships.get()
    url = reverse("accounts:membership_remove", args=[camille.pk, membership.pk])

    page = admin_client.get(url)

    assert "Voulez-vous retirer à <strong>Camille Martin</strong>" in text(page)
    assert Membership.objects.filter(pk=membership.pk).exists()

    response = admin_client.post(url)

    assert response.status_code == 302
    assert response.url == reverse("accounts:user_detail", args=[camille.pk])
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MEMBERSHIP_REMOVED)
    assert event.detail["membership"] == str(membership.pk)


def test_membership_removal_needs_the_right_user_in_the_url(admin_client, camille, admin_account):
    membership = camille.memberships.get()

    response = admin_client.post(
        reverse("accounts:membership_remove", args=[admin_account.pk, membership.pk])
    )

    assert response.status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_cannot_remove_their_own_last_admin_role(admin_client, admin_account):
    membership = admin_account.memberships.get()
    before = counts()

    response = admin_client.post(
        reverse("accounts:membership_remove", args=[admin_account.pk, membership.pk])
    )

    assert response.status_code == 400
    assert "Vous ne pouvez pas retirer votre propre et dernier rôle d'administration" in text(
        response
    )
    assert counts() == before


def test_an_admin_may_remove_another_admin(admin_client):
    other = MembershipFactory(role=Role.ADMIN)

    response = admin_client.post(
        reverse("accounts:membership_remove", args=[other.user_id, other.pk])
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=other.pk).exists()


def test_a_removed_role_takes_effect_at_once(admin_account, camille, programme):
    assert can(camille, Action.VIEW_PROGRAMME, programme)  # memberships now cached on camille

    services.membership_remove(membership=camille.memberships.get(), acting_user=admin_account)

    assert not can(camille, Action.VIEW_PROGRAMME, programme)
    assert not Programme.objects.for_user(camille).exists()


def test_services_refuse_a_scope_that_does_not_fit_without_writing(admin_account, structure):
    account = UserFactory()
    before = counts()

    with pytest.raises(ValidationError, match="porte sur un programme ou un territoire"):
        services.membership_add(
            user=account, role=Role.COORDINATOR, scope=structure, acting_user=admin_account
        )

    assert counts() == before


# ---- Deactivation ------------------------------------------------------------------------------


def test_deactivation_asks_for_confirmation_then_closes_the_account(admin_client, camille):
    url = reverse("accounts:user_deactivate", args=[camille.pk])
    camille_browser = Client()
    camille_browser.force_login(camille)

    page = admin_client.get(url)
    camille.refresh_from_db()
    assert "Désactiver le compte de Camille Martin" in text(page)
    assert camille.is_active

    response = admin_client.post(url)

    assert response.status_code == 302
    camille.refresh_from_db()
    assert not camille.is_active
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.USER_DEACTIVATED, target=str(camille.pk)
    ).exists()
    # Camille's open session no longer works, and the password no longer signs in.
    assert camille_browser.get(reverse("accounts:user_list")).status_code == 302
    login = Client().post(
        reverse("accounts:login"), {"username": camille.email, "password": PASSWORD}
    )
    assert login.status_code == 200


def test_an_admin_cannot_deactivate_themselves(admin_client, admin_account):
    before = counts()

    response = admin_client.post(reverse("accounts:user_deactivate", args=[admin_account.pk]))

    assert response.status_code == 400
    assert "Vous ne pouvez pas désactiver votre propre compte." in text(response)
    admin_account.refresh_from_db()
    assert admin_account.is_active
    assert counts() == before


# ---- Django admin (superusers) -------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "accounts/user",
        "accounts/auditevent",
        "territories/region",
        "territories/departement",
        "territories/territory",
        "territories/commune",
        "territories/programme",
        "territories/sessiontarget",
        "territories/indicatorvalue",
        "directory/structure",
    ],
)
def test_django_admin_lists_open_for_a_superuser(superuser_client, camille, structure, model):
    response = superuser_client.get(f"/django-admin/{model}/")

    assert response.status_code == 200


def test_django_admin_user_page_shows_roles_inline(superuser_client, camille):
    response = superuser_client.get(reverse("admin:accounts_user_change", args=[camille.pk]))

    assert response.status_code == 200
    assert "Mieux Manger en Centre Bretagne" in text(response)  # the role's programme, inline
    assert "Droits techniques" in text(response)


def test_django_admin_creates_a_user_by_email(superuser_client):
    response = superuser_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Nouvel.Admin@Example.org",
            "full_name": "Nouvel Admin",
            "usable_password": "false",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert User.objects.filter(email="nouvel.admin@example.org").exists()


def test_django_admin_audit_trail_is_read_only(superuser_client):
    event = AuditEvent.objects.get()  # the superuser's login

    assert superuser_client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert (
        superuser_client.post(
            reverse("admin:accounts_auditevent_delete", args=[event.pk])
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_django_admin_is_closed_to_an_application_admin_without_staff_status(
    admin_client,
):
    response = admin_client.get("/django-admin/accounts/user/")

    assert response.status_code == 302
    assert "/django-admin/login/" in response.url


def test_an_invited_person_whose_link_expired_can_ask_for_a_new_one(
    client, admin_account, programme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_invite(
            email="invitee@example.org",
            full_name="Invitée",
            role=Role.FUNDER,
            scope=programme,
            acting_user=admin_account,
            base_url="http://testserver",
        )
    mail.outbox.clear()

    client.post(reverse("accounts:password_reset"), {"email": "invitee@example.org"})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["invitee@example.org"]


def test_a_deactivated_account_gets_no_reset_link(client, camille):
    camille.is_active = False
    camille.save()

    client.post(reverse("accounts:password_reset"), {"email": camille.email})

    assert mail.outbox == []
