"""The search box and sort choice of the list pages (projects, datasets, a project's batches):
one small form, bounded like every input, whose orderings each page names."""

from __future__ import annotations

from django import forms

SEARCH_MAX_LENGTH = 100


class ListControlsForm(forms.Form):
    """`?q=` (a case-insensitive substring of the name) and `?sort=` (one of `sorts`)."""

    q = forms.CharField(
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        strip=True,
        error_messages={"max_length": f"Search for at most {SEARCH_MAX_LENGTH} characters."},
    )
    sort = forms.ChoiceField(required=False)

    def __init__(self, data, *, sorts: dict[str, str]):
        super().__init__(data)
        self.sorts = sorts
        self.fields["sort"].choices = list(sorts.items())
        self.fields["sort"].error_messages["invalid_choice"] = (
            f"Sort by {', '.join(sorts.values())}."
        )

    def values(self) -> tuple[str, str, str | None]:
        """(search, sort key, error message or None); a refused value falls back to none."""
        if self.is_valid():
            return self.cleaned_data["q"], self.cleaned_data["sort"] or next(iter(self.sorts)), None
        error = next(iter(self.errors.values()))[0]
        q = self.cleaned_data.get("q", "")
        return q, self.cleaned_data.get("sort") or next(iter(self.sorts)), error

    def context(self) -> dict:
        """What a list template reads: `q`, `sort`, `sorts` and `list_error`."""
        q, sort, error = self.values()
        return {"q": q, "sort": sort, "sorts": self.sorts, "list_error": error}

    def status(self, request) -> int:
        """400 for a refused value on a full page; htmx swaps only 2xx answers, so a partial
        carries the message in a 200."""
        return 400 if self.values()[2] and not request.htmx else 200


CHOICES_MAX = 200  # options of a page's select of objects (datasets, versions)


def bounded_choices(queryset, *, chosen: str = "", limit: int = CHOICES_MAX) -> tuple[list, bool]:
    """A page's select of objects, whatever the size of the table: at most `limit` objects of
    `queryset` (in its order) and the chosen one when it is not among them; and whether more
    were left out (the page then says so, or offers a search)."""
    choices = list(queryset[: limit + 1])
    more = len(choices) > limit
    choices = choices[:limit]
    if chosen and all(str(c.pk) != chosen for c in choices):
        choices += list(queryset.filter(pk=chosen)[:1])
    return choices, more
