"""Forms of the dataset and version pages (shape only; meaning is checked by services)."""

from django import forms

from dashboard.bulk.formats import FORMATS
from dashboard.bulk.records import MODES, ON_ERROR, UNKNOWN
from dashboard.bulk.staged import TOKEN_MAX_LENGTH, staged_upload_open
from dashboard.forms import JSONTextField
from dashboard.list_controls import CHOICES_MAX, bounded_choices

from .models import Dataset


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    tags = forms.CharField(required=False, help_text="Separated by spaces or commas")
    dataset_project = forms.CharField(max_length=255, required=False, label="Folder")

    def clean_tags(self):
        raw = self.cleaned_data["tags"].replace(",", " ")
        return [t for t in raw.split() if t]


class VersionForm(forms.Form):
    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    parent = forms.ChoiceField(required=False, label="Parent (published)")

    def __init__(self, *args, parents=None, **kwargs):
        """`parents`: the dataset's published versions (a queryset): a bounded share is
        listed, and the chosen one (a posted parent is valid wherever it is in the list)."""
        super().__init__(*args, **kwargs)
        chosen = str(self.data.get("parent") or "") if self.is_bound else ""
        shown, more = ([], False) if parents is None else bounded_choices(parents, chosen=chosen)
        self.fields["parent"].choices = [("", "— none (an empty root) —")] + [
            (v.pk, f"{v.name} · {v.published_at:%Y-%m-%d %H:%M}") for v in shown
        ]
        if more:
            self.fields["parent"].help_text = f"The {CHOICES_MAX} changed last are listed."


class SnapshotForm(forms.Form):
    publish_name = forms.CharField(
        max_length=255, required=False, help_text="Default: snapshot <date-time>"
    )
    publish_comment = forms.CharField(required=False)
    child_name = forms.CharField(
        max_length=255, required=False, help_text="Default: the draft's name"
    )
    child_comment = forms.CharField(required=False)


class MetadataForm(forms.Form):
    metadata = JSONTextField(expect=dict, required=False)


class MaskLabelsForm(forms.Form):
    mask_labels = JSONTextField(
        expect=list,
        required=False,
        help_text='[{"value": [r, g, b], "labels": ["person"]}, …]',
    )


class MetadataSchemaForm(forms.Form):
    fields_json = JSONTextField(
        expect=list,
        required=False,
        label="Metadata fields",
        help_text='[{"name": "age", "type": "integer", "default": 0, "required": false}, '
        '{"name": "split", "type": "enum", "options": ["train", "val"]}] — types: string, '
        "number, integer, boolean, datetime, enum. Empty: free-form metadata.",
    )


class FramesForm(forms.Form):
    frames = JSONTextField(expect=list, help_text='[{"sources": [{"uri": "s3://…"}], "meta": {}}]')


IMPORT_OPTIONS = ("format", "mode", "key", "on_error", "unknown")
FORMAT_CHOICES = [("", "from the file name"), *((f, f.upper()) for f in FORMATS)]


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class ImportForm(forms.Form):
    """The import form of the dataset and version pages: a file and the options as chosen
    (blank: the service's default), and what to do (preview the file, or start). The file's
    content is checked by `upload_accept` (or `import_preview`). On the dataset page,
    `version` names the draft that gets the rows (blank: a new draft)."""

    file = forms.FileField(allow_empty_file=True, required=False)
    # Without JavaScript, the file a preview read is kept (a staged upload): its token.
    staged = forms.CharField(required=False, max_length=TOKEN_MAX_LENGTH)
    action = forms.ChoiceField(choices=[("start", "start"), ("preview", "preview")], required=False)
    version = forms.CharField(required=False, max_length=64)
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False)
    mode = forms.ChoiceField(choices=[("", ""), *_choices(MODES)], required=False)
    key = forms.ChoiceField(choices=[("", ""), *_choices(("global_key", "id"))], required=False)
    on_error = forms.ChoiceField(choices=[("", ""), *_choices(ON_ERROR)], required=False)
    unknown = forms.ChoiceField(choices=[("", ""), *_choices(UNKNOWN)], required=False)

    def clean(self):
        data = super().clean()
        if not data.get("file") and not data.get("staged") and "file" not in self.errors:
            self.add_error("file", "Choose a file to import.")
        return data

    @property
    def previewing(self) -> bool:
        return self.cleaned_data.get("action") == "preview"

    @property
    def uses_staged(self) -> bool:
        """No file was chosen: the one kept from the preview is used."""
        return not self.cleaned_data.get("file") and bool(self.cleaned_data.get("staged"))

    def upload(self, *, user=None) -> dict:
        """The file (chosen, or kept from the preview for `user`) and options as
        `rows_import_start` keywords."""
        options = {name: self.cleaned_data.get(name) or None for name in IMPORT_OPTIONS}
        file = self.cleaned_data.get("file")
        if file is None:
            return {**staged_upload_open(token=self.cleaned_data["staged"], user=user), **options}
        return {"fileobj": file, "filename": file.name, "size": file.size, **options}


class DataRowImportForm(ImportForm):
    """The admin's import page: a dataset, the draft that gets the rows (blank: its current
    draft, or a new one), the file (or the one kept from the preview) and the options."""

    field_order = [
        "dataset",
        "version",
        "file",
        "staged",
        "format",
        "mode",
        "key",
        "on_error",
        "ignore_unknown",
    ]

    dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"))
    version = forms.CharField(required=False, max_length=64, label="Import into")
    file = forms.FileField(
        allow_empty_file=True, required=False, help_text="CSV, JSON array or NDJSON, UTF-8"
    )
    staged = forms.CharField(required=False, max_length=TOKEN_MAX_LENGTH, widget=forms.HiddenInput)
    mode = forms.ChoiceField(choices=_choices(MODES))
    key = forms.ChoiceField(choices=_choices(("global_key", "id")))
    on_error = forms.ChoiceField(choices=_choices(ON_ERROR))
    unknown = None
    ignore_unknown = forms.BooleanField(required=False, label="Ignore unknown columns")

    def upload(self, *, user=None) -> dict:
        return {
            **super().upload(user=user),
            "unknown": "ignore" if self.cleaned_data["ignore_unknown"] else None,
        }
