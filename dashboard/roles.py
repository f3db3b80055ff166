"""Roles (manager > reviewer > labeler > viewer), held as auth groups, and how they are enforced.

`RolePermission` guards every API view, `RoleRequiredMixin` / `role_required` every page,
`RoleAdmin` / `RoleGuard` (dashboard/admin_actions.py) every admin page; the API and the
admin both ask `role_needed`.
Reads need *viewer*, writes *manager*, unless a view says otherwise (queue work: *labeler*;
reviewing labels and reading analytics: *reviewer*).
"""

from __future__ import annotations

import enum
from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission


class Role(enum.IntEnum):
    VIEWER = 1
    LABELER = 2
    REVIEWER = 3
    MANAGER = 4

    @property
    def group_name(self) -> str:
        return self.name.lower()


ROLE_GROUPS = [role.group_name for role in Role]


def user_role(user) -> Role | None:
    """The highest role the user holds; superusers are managers; None for no role."""
    if not user or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.MANAGER
    cached = getattr(user, "_labelops_role", False)
    if cached is not False:
        return cached
    names = set(user.groups.filter(name__in=ROLE_GROUPS).values_list("name", flat=True))
    role = max((r for r in Role if r.group_name in names), default=None)
    user._labelops_role = role
    return role


def user_has_role(user, minimum: Role) -> bool:
    role = user_role(user)
    return role is not None and role >= minimum


def user_set_role(*, user, role: Role) -> None:
    """Give `user` exactly one role group."""
    from django.contrib.auth.models import Group

    user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUPS))
    # get_or_create: a group deleted by hand (or a flushed database) must not break roles.
    user.groups.add(Group.objects.get_or_create(name=role.group_name)[0])
    user.__dict__.pop("_labelops_role", None)


def role_needed(door, *, write: bool) -> Role:
    """The role a door (an API view, an admin) asks: its `write_role` for writes (default
    manager), its `read_role` for reads (default viewer)."""
    if write:
        return getattr(door, "write_role", Role.MANAGER)
    return getattr(door, "read_role", Role.VIEWER)


class RolePermission(BasePermission):
    """API guard. Views may set `read_role` / `write_role` (defaults: viewer / manager)."""

    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        needed = role_needed(view, write=request.method not in SAFE_METHODS)
        return user_has_role(request.user, needed)


class RoleRequiredMixin(AccessMixin):
    """Page guard: anonymous → login page; signed in without the role → 403."""

    required_role: Role = Role.VIEWER
    write_role: Role | None = None  # role needed for POST/PUT/PATCH/DELETE, if higher

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        needed = self.required_role
        if request.method not in SAFE_METHODS and self.write_role is not None:
            needed = self.write_role
        if not user_has_role(request.user, needed):
            raise PermissionDenied("Your role does not allow this page.")
        return super().dispatch(request, *args, **kwargs)


def role_required(minimum: Role):
    """Decorator form of `RoleRequiredMixin` for function views."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, minimum):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        wrapped.required_role = minimum  # read by the role-matrix test
        return wrapped

    return decorator
