"""The admin's doors checked like the API's: `RoleAdmin` is the base of every ModelAdmin, and
`each_selected` applies a service to each selected object, reporting each refusal.

- Seeing a model needs Django's view permission *and* the API's read role (viewer); adding,
  changing and deleting need Django's permission *and* the API's write role (manager), and are
  offered only where a service does the write (`service_writes`): the form's values go through
  `service_add` / `service_change` / `service_delete`, never a bare `save()` or a cascade.
- Actions declare `permissions=["manager"]` (or `["view"]` for reads): Django then asks
  `has_manager_permission`, which is the API's write role. An action that is not offered to the
  user (a forged POST) is a 403.
- A refusal of a service (an `ApplicationError`) rolls everything back and is shown: as a form
  error on the change form, as an error message on delete and on actions. Never a 500.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput, JSONString
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from .admin_counts import EstimatedCountPaginator
from .errors import ApplicationError
from .roles import role_needed, user_has_role
from .strict_json import json_parse


class StrictJSONFormField(forms.JSONField):
    """A JSON input read like the API's bodies (`json_parse`): no NaN, no NUL, bounded depth
    — a form error, where Django's reader let PostgreSQL refuse (or recursion fail) in a 500."""

    def to_python(self, value):
        if self.disabled or not isinstance(value, str) or value in self.empty_values:
            return super().to_python(value)
        try:
            converted = json_parse(value)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Enter a valid JSON: {exc.msg}.", code="invalid") from None
        return JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data, initial):
        if self.disabled or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:
            return json_parse(data)
        except json.JSONDecodeError:
            return InvalidJSONInput(data)


class RoleGuard:
    """Mixed into a ModelAdmin: the API's roles on top of Django's permissions. Viewing needs
    the read role (viewer), adding, changing, deleting and actions the write role (manager)."""

    def has_manager_permission(self, request) -> bool:
        """The API's write role (actions declare `permissions=["manager"]`)."""
        return user_has_role(request.user, role_needed(self, write=True))

    def has_view_permission(self, request, obj=None) -> bool:
        return user_has_role(
            request.user, role_needed(self, write=False)
        ) and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and self.has_manager_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.has_manager_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self.has_manager_permission(request)

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "_save" not in request.POST:
            offered = self.get_actions(request)
            if any(name and name not in offered for name in request.POST.getlist("action")):
                raise PermissionDenied("Your role does not allow this action.")
        return super().changelist_view(request, extra_context)


class RoleAdmin(RoleGuard, admin.ModelAdmin):
    """A ModelAdmin guarded by the API's roles; view-only unless `service_writes` says which of
    "add", "change", "delete" a service performs (the subclass implements the hook)."""

    service_writes: tuple[str, ...] = ()
    paginator = EstimatedCountPaginator  # no COUNT(*) of a big table per page view
    formfield_overrides = {models.JSONField: {"form_class": StrictJSONFormField}}
    add_fields: tuple[str, ...] = ()  # the add form's fields (all passed to `service_add`)
    change_fields: tuple[str, ...] = ()  # editable on the change form; the rest are read-only

    def has_add_permission(self, request) -> bool:
        return "add" in self.service_writes and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return "change" in self.service_writes and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return "delete" in self.service_writes and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a service decides each deletion
        return actions

    # --- forms: which fields, and the writes through the services ---------------------------

    def get_fields(self, request, obj=None):
        if obj is None and self.add_fields:
            return list(self.add_fields)
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [f.name for f in self.opts.concrete_fields if f.name not in self.change_fields]

    def service_add(self, request, data: dict):
        raise NotImplementedError

    def service_change(self, request, obj, changed: dict) -> None:
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            if changed:
                self.service_change(request, obj, changed)
            return
        created = self.service_add(request, form.cleaned_data)
        # The admin goes on with `obj` (log entry, redirect): make it the created row.
        for field in self.opts.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.service_delete(request, obj)

    def get_deleted_objects(self, objs, request):
        """What the confirmation page lists: the objects themselves. The service decides what
        goes with them (and refuses when it must); Django's collector would walk every related
        row (a dataset's million frames) and ask for permissions no one has on service data."""
        objs = list(objs)
        return (
            [str(obj) for obj in objs],
            {self.opts.verbose_name_plural: len(objs)} if objs else {},
            set(),
            [],
        )

    # --- refusals -----------------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "labelops_refusal", None)
        if refusal is None:
            return form

        class Refused(form):
            def clean(self):
                cleaned = super().clean()
                self.add_error(
                    refusal.field if refusal.field in self.fields else None, refusal.message
                )
                return cleaned

        return Refused

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save the service refuses is rolled back (Django runs the view in a transaction)
        and the same form is shown again with the service's message as its error."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            request.labelops_refusal = exc
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        opts = self.opts
        return HttpResponseRedirect(
            reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[object_id],
                current_app=self.admin_site.name,
            )
        )


class BoundedInlineFormSet(forms.BaseInlineFormSet):
    """An inline's rows, at most `shown_max` of them: a project's 100,000 batches or a job's
    million row errors are not one change page (the model's own list shows them all)."""

    shown_max = 20

    def get_queryset(self):
        queryset = super().get_queryset()
        if not queryset.query.is_sliced:
            queryset = self._queryset = queryset[: self.shown_max]
        return queryset


class ReadOnlyInline(admin.TabularInline):
    """An inline that only shows rows, the first `shown_max` in its ordering; they are changed
    through their own admin (services), whose list (`all_link`) shows every one."""

    extra = 0
    max_num = 0
    can_delete = False
    formset = BoundedInlineFormSet
    shown_max = 20

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.shown_max = self.shown_max
        return formset

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def all_link(model, *, field: str, obj, count: int) -> str:
    """A link to `model`'s admin list filtered to `obj` (`<field>__id__exact`), with the count:
    beside a bounded inline, the way to every row."""
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    name = opts.verbose_name if count == 1 else opts.verbose_name_plural
    return format_html('<a href="{}?{}__id__exact={}">{} {}</a>', url, field, obj.pk, count, name)


def each_selected(modeladmin, request, queryset, verb, *, done: str) -> int:
    """Call `verb(obj)` for each selected object. A refusal (an ApplicationError) is reported
    for that object and the others go on; then "<done>: N <objects>". Returns N."""
    count = 0
    for obj in queryset:
        try:
            verb(obj)
            count += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    plural = queryset.model._meta.verbose_name_plural
    modeladmin.message_user(request, f"{done}: {count} {plural}.")
    return count
