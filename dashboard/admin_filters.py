"""The admin's list filters on related objects, bounded whatever the size of the related
table: a few newest objects to click, and a box to type any other one's id or name.

Django's `RelatedFieldListFilter` lists every related object as a choice: with 100,000
batches the label list fetched and rendered all of them on every page view; its
`AllValuesFieldListFilter` reads `SELECT DISTINCT` of a column over every row of the table.
"""

from collections.abc import Callable, Iterable

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import build_q_object_from_lookup_parameters
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

FILTER_CHOICES_MAX = 20  # related objects offered as links (the newest)
FILTER_LOOKUP_MAX_LENGTH = 255  # characters of a typed id or name


def told_apart(obj) -> str:
    """An object named like another still reads differently: its name, creation day and id."""
    created = getattr(obj, "created_at", None)
    when = f" · {created:%Y-%m-%d %H:%M}" if created else ""
    return f"{obj}{when} · {obj.pk}"


class RelatedLookupFilter(admin.RelatedFieldListFilter):
    """A related-object filter that never enumerates the related table: the newest
    `FILTER_CHOICES_MAX` objects (and the chosen one) as links, each told apart by its day
    and id, and a text box (`<field>__lookup`) taking an id or an exact name."""

    template = "dashboard/_lookup_filter_admin.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg_typed = f"{field_path}__lookup"
        self.related_model = field.related_model
        super().__init__(field, request, params, model, model_admin, field_path)
        typed = self.used_parameters.get(self.lookup_kwarg_typed)
        self.typed = (typed[-1] if isinstance(typed, list) else typed or "").strip()

    def expected_parameters(self):
        return [*super().expected_parameters(), self.lookup_kwarg_typed]

    def has_output(self):
        return True  # the box is always useful, whatever the choices

    def _named(self) -> bool:
        try:
            self.related_model._meta.get_field("name")
        except FieldDoesNotExist:
            return False
        return True

    def field_choices(self, field, request, model_admin):
        related = self.related_model._default_manager
        ordering = self.field_admin_ordering(field, request, model_admin) or ["-created_at"]
        objects = list(related.order_by(*ordering)[:FILTER_CHOICES_MAX])
        chosen = self.lookup_val[-1] if self.lookup_val else None
        if chosen and all(str(obj.pk) != chosen for obj in objects):
            objects += list(related.filter(pk=chosen)[:1])
        return [(obj.pk, told_apart(obj)) for obj in objects]

    def queryset(self, request, queryset):
        params = {k: v for k, v in self.used_parameters.items() if k != self.lookup_kwarg_typed}
        typed = self.typed
        if typed:
            if len(typed) > FILTER_LOOKUP_MAX_LENGTH:
                raise IncorrectLookupParameters(
                    f"{self.title}: at most {FILTER_LOOKUP_MAX_LENGTH} characters."
                )
            match = Q(pk=typed) | Q(name=typed) if self._named() else Q(pk=typed)
            related = self.related_model._default_manager.filter(match).values("pk")
            queryset = queryset.filter(**{f"{self.field_path}__in": related})
        try:
            return queryset.filter(build_q_object_from_lookup_parameters(params))
        except (ValueError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc

    def choices(self, changelist):
        mine = self.expected_parameters()
        # The box's form keeps every other parameter of the list (not the page number).
        self.kept_params = [(k, v) for k, v in changelist.params.items() if k not in mine]
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        chosen = self.lookup_val or []
        yield {
            "selected": not chosen and not self.lookup_val_isnull and not self.typed,
            "query_string": changelist.get_query_string(remove=mine),
            "display": _("All"),
        }
        for pk, text in self.lookup_choices:
            yield {
                "selected": str(pk) in chosen,
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg: pk}, [self.lookup_kwarg_isnull, self.lookup_kwarg_typed]
                ),
                "display": f"{text} ({counts[f'{pk}__c']})" if counts else text,
            }
        if self.include_empty_choice:
            empty = self.empty_value_display
            yield {
                "selected": bool(self.lookup_val_isnull),
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg_isnull: "True"}, [self.lookup_kwarg, self.lookup_kwarg_typed]
                ),
                "display": f"{empty} ({counts['__c']})" if counts else empty,
            }


class ToldApartFilter(RelatedLookupFilter):
    """The filter for projects (several may share a name): the same bounded filter."""


class ValueLookupFilter(admin.FieldListFilter):
    """A filter on a plain column of a big table (a kind, a type, a count) without Django's
    `SELECT DISTINCT` over every row to find its values: the values the code knows
    (`known()`, when given) as links, and a box for any exact value."""

    template = "dashboard/_lookup_filter_admin.html"
    known: Callable[[], Iterable] | None = None

    @classmethod
    def of(cls, known: Callable[[], Iterable]) -> type["ValueLookupFilter"]:
        """The filter whose links are the values `known()` returns (e.g. the event types)."""
        return type(cls.__name__, (cls,), {"known": staticmethod(known)})

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg_typed = f"{field_path}__exact"
        super().__init__(field, request, params, model, model_admin, field_path)
        typed = self.used_parameters.get(self.lookup_kwarg_typed)
        self.typed = str(typed[-1] if isinstance(typed, list) else typed or "").strip()

    def expected_parameters(self):
        return [self.lookup_kwarg_typed]

    def queryset(self, request, queryset):
        if not self.typed:
            return queryset
        if len(self.typed) > FILTER_LOOKUP_MAX_LENGTH:
            raise IncorrectLookupParameters(
                f"{self.title}: at most {FILTER_LOOKUP_MAX_LENGTH} characters."
            )
        try:
            return queryset.filter(**{self.field_path: self.typed})
        except (ValueError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc

    def choices(self, changelist):
        mine = self.expected_parameters()
        self.kept_params = [(k, v) for k, v in changelist.params.items() if k not in mine]
        yield {
            "selected": not self.typed,
            "query_string": changelist.get_query_string(remove=mine),
            "display": _("All"),
        }
        for value in self.known() if self.known else ():
            yield {
                "selected": self.typed == str(value),
                "query_string": changelist.get_query_string({self.lookup_kwarg_typed: value}),
                "display": str(value),
            }
