"""Django admin for superusers: accounts with their roles, and the read-only audit trail."""

from django import forms
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms

from tablee.accounts.models import AuditEvent, Membership, User


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Un compte existe déjà avec cette adresse e-mail.")
        return email


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Un compte existe déjà avec cette adresse e-mail.")
        return email


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("role", "programme", "programme_territory", "structure")
    raw_id_fields = ("programme", "programme_territory", "structure")
    verbose_name = "rôle"
    verbose_name_plural = "rôles (un seul périmètre par rôle, aucun pour l'administration)"


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    inlines = [MembershipInline]
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("full_name",)}),
        (
            "Droits techniques",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": (
                    "Les rôles dans Tablée (administration, coordination, partenaire…) se donnent "
                    "plus bas ; ces cases ne concernent que l'administration technique."
                ),
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail is written by the application only: nobody adds, edits or deletes."""

    list_display = ("created_at", "kind", "actor", "target")
    list_filter = ("kind",)
    list_select_related = ("actor",)
    search_fields = ("target",)
    readonly_fields = ("created_at", "kind", "actor", "target", "detail")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
