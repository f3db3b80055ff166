"""The one way an admin action applies a service to each selected object."""

from django.contrib import messages

from .errors import ApplicationError


def each_selected(modeladmin, request, queryset, verb, *, done: str) -> int:
    """Call `verb(obj)` for each selected object. A refusal (an ApplicationError) is reported
    for that object and the others go on; then "<done>: N <objects>". Returns N."""
    count = 0
    for obj in queryset:
        try:
            verb(obj)
            count += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
    plural = queryset.model._meta.verbose_name_plural
    modeladmin.message_user(request, f"{done}: {count} {plural}.")
    return count
