from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import User


class UserCreationForm(forms.ModelForm[User]):
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["email", "display_name", "role"]

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


class UserChangeForm(forms.ModelForm[User]):
    password = ReadOnlyPasswordHashField(
        help_text="Passwords are stored hashed; users change their own."
    )

    class Meta:
        model = User
        fields = ["email", "display_name", "role", "is_active", "password"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["id", "email", "display_name", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "display_name"]
    ordering = ["id"]
    readonly_fields = ["date_joined", "last_login", "updated_at"]
    actions = ["deactivate_users"]

    def get_form(
        self,
        request: HttpRequest,
        obj: User | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        kwargs["form"] = UserChangeForm if obj else UserCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is None:
            return ["email", "display_name", "role", "password"]
        return [
            "email",
            "display_name",
            "role",
            "is_active",
            "password",
            "date_joined",
            "last_login",
            "updated_at",
        ]

    @admin.action(description="Deactivate the selected users")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = cast(User, request.user)
        count = 0
        for user in queryset.exclude(pk=actor.pk):
            services.user_set_active(actor=actor, user=user, is_active=False)
            count += 1
        self.message_user(request, f"{count} user(s) deactivated.")
