"""Forms of the dataset and version pages (shape only; meaning is checked by services)."""

from django import forms

from dashboard.forms import JSONTextField


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

    def __init__(self, *args, parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "— none (an empty root) —")] + [
            (v.pk, f"{v.name} · {v.published_at:%Y-%m-%d %H:%M}") for v in parents
        ]


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


class FramesForm(forms.Form):
    frames = JSONTextField(expect=list, help_text='[{"sources": [{"uri": "s3://…"}], "meta": {}}]')
