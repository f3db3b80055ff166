"""Dataset and version pages: list with the tag filter, the dataset's version tree, a version's
stats, metadata, mask labels, frame browser and diff, and the verbs behind confirmations."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.errors import ApplicationError, NotFound
from dashboard.forms import form_call
from dashboard.list_controls import CHOICES_MAX, ListControlsForm, bounded_choices
from dashboard.roles import Role, role_required, user_has_role

from . import selectors, services
from .forms import (
    DatasetForm,
    FramesForm,
    MaskLabelsForm,
    MetadataForm,
    MetadataSchemaForm,
    SnapshotForm,
    VersionForm,
)
from .media import frame_media, frame_thumbnail
from .models import DatasetVersion

FRAMES_PER_PAGE = 24

# What a version picker shows (its metadata and statistics stay unread).
PICK = ("name", "status", "updated_at", "published_at")


def _partial(request, template: str, name: str) -> str:
    """The whole page, or one partial of it for an htmx request aimed at that partial."""
    if request.htmx and not request.htmx.boosted and request.htmx.target == name:
        return f"{template}#{name}"
    return template


@role_required(Role.VIEWER)
def datasets_page(request):
    form = DatasetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not user_has_role(request.user, Role.MANAGER):
            return render(request, "403.html", status=403)
        if form.is_valid():
            result = form_call(
                form,
                services.dataset_create,
                user=request.user,
                raise_if_exists=True,
                **form.cleaned_data,
            )
            if result:
                messages.success(request, f"Dataset {result[0].name!r} created.")
                return redirect("dataset-detail", dataset_id=result[0].pk)
    tags = request.GET.get("tags", "").replace(",", " ").split()
    error = None
    try:
        datasets = selectors.dataset_list(tags=tags or None)
    except ApplicationError as exc:
        datasets, error = selectors.dataset_list(), exc.message
    q, sort, list_error = ListControlsForm(request.GET, sorts=DATASET_SORT_NAMES).values()
    datasets = selectors.dataset_row_counts(
        selectors.dataset_search(datasets, q=q, sort=sort)
    ).annotate(
        version_count=Count("versions", distinct=True),
    )
    page = Paginator(datasets, 50).get_page(request.GET.get("page"))
    chosen = set(tags)
    context = {
        "page": page,
        "form": form,
        "tags": " ".join(tags),
        "tag_error": error,
        "tag_choices": [
            {
                "tag": tag,
                "add": " ".join([*tags, tag]),
                "exclude": " ".join([*tags, f"-{tag}"]),
                "chosen": tag in chosen,
            }
            for tag in selectors.dataset_tag_choices()
        ],
        "q": q,
        "sort": sort,
        "sorts": DATASET_SORT_NAMES,
        "list_error": list_error,
    }
    refused = form.errors or (list_error and not request.htmx)
    return render(
        request,
        _partial(request, "versions/dataset_list.html", "dataset-table"),
        context,
        status=400 if refused else 200,
    )


DATASET_SORT_NAMES = {"oldest": "oldest", "newest": "newest", "name": "name"}


def _tree(dataset) -> list[dict]:
    """Roots with nested children, newest last; removed versions kept as hidden joints."""
    versions = list(
        DatasetVersion.objects.filter(dataset=dataset)
        .defer("metadata")
        .order_by("created_at", "id")
    )
    children: dict[str | None, list] = {}
    for version in versions:
        children.setdefault(version.parent_id, []).append(version)

    def node(version):
        return {"version": version, "children": [node(c) for c in children.get(version.pk, [])]}

    return [node(root) for root in children.get(None, [])]


@require_POST
@role_required(Role.MANAGER)
def dataset_metadata_schema_view(request, dataset_id: str):
    """The dataset page's metadata-fields editor: replace the schema, say what happened."""
    dataset = selectors.dataset_get(dataset_id=dataset_id)
    form = MetadataSchemaForm(request.POST)
    if form.is_valid() and form_call(
        form,
        services.dataset_set_metadata_schema,
        dataset=dataset,
        fields=form.cleaned_data["fields_json"],
        user=request.user,
    ):
        messages.success(request, "Metadata fields saved.")
    else:
        messages.error(request, "Metadata fields not saved: " + _errors(form))
    return redirect("dataset-detail", dataset_id=dataset.pk)


@role_required(Role.VIEWER)
def dataset_page(request, dataset_id: str):
    dataset = selectors.dataset_get(dataset_id=dataset_id)
    parents = selectors.version_list(dataset=dataset, only_published=True).only(*PICK)
    form = VersionForm(request.POST if request.method == "POST" else None, parents=parents)
    if request.method == "POST":
        if not user_has_role(request.user, Role.MANAGER):
            return render(request, "403.html", status=403)
        if form.is_valid():
            data = form.cleaned_data
            parent = (
                form_call(
                    form,
                    selectors.version_parent_resolve,
                    dataset=dataset,
                    ref=data["parent"] or None,
                )
                if data["parent"]
                else None
            )
            if not form.errors:
                result = form_call(
                    form,
                    services.version_create,
                    dataset=dataset,
                    name=data["name"],
                    description=data["description"],
                    parent=parent,
                    user=request.user,
                )
                if result:
                    version, created = result
                    messages.success(
                        request,
                        f"Version {version.name!r} "
                        f"{'created' if created else 'already existed as a draft'}.",
                    )
                    return redirect("version-detail", version_id=version.pk)
    return render(
        request,
        "versions/dataset_detail.html",
        dataset_context(request, dataset, form=form),
        status=400 if form.errors else 200,
    )


def dataset_context(request, dataset, *, form=None, **importer) -> dict:
    """The dataset page: its version tree, the new-version form and the import card
    (`importer`: the import form as posted, its refusal or preview)."""
    if form is None:
        parents = selectors.version_list(dataset=dataset, only_published=True).only(*PICK)
        form = VersionForm(parents=parents)
    return {
        "dataset": dataset,
        "tree": _tree(dataset),
        "reading": selectors.version_for_reading(dataset=dataset, only=("name",)),
        "form": form,
        "schema_form": MetadataSchemaForm(initial={"fields_json": dataset.metadata_schema}),
        "version_count": DatasetVersion.objects.filter(dataset=dataset, removed=False).count(),
        "importer": import_card(
            request,
            record_type="data_rows",
            url=reverse("dataset-import", args=[dataset.pk]),
            export_url=reverse("api:data-row-export", args=[dataset.pk]),
            can_import=user_has_role(request.user, Role.MANAGER),
            targets=import_targets(dataset),
            **importer,
        ),
    }


IMPORT_TARGETS_SHOWN = 50


def import_targets(dataset) -> dict:
    """Where the dataset page's import writes, said before it starts: the drafts to choose
    from (the current one first), or the new draft it would open; and a warning when the
    current draft is an empty root although the dataset has published versions (its rows
    would not be among theirs)."""
    from .bulk.start import new_draft_name

    drafts = list(
        selectors.version_list(dataset=dataset, only_draft=True)
        .select_related("parent")
        .only("name", "status", "stats", "updated_at", "parent__name")[:IMPORT_TARGETS_SHOWN]
    )
    latest = (
        selectors.version_list(dataset=dataset, only_published=True)
        .order_by("-published_at", "-id")
        .only(*PICK)
        .first()
    )
    choices = []
    for draft in drafts:
        frames = (draft.stats or {}).get("frame_count")
        where = f"child of {draft.parent.name}" if draft.parent_id else "an empty root"
        count = f", {frames} frame{'' if frames == 1 else 's'}" if frames is not None else ""
        choices.append((draft.pk, f"{draft.name} (draft, {where}{count})"))
    if not drafts:
        name = new_draft_name(dataset=dataset)
        where = f"child of {latest.name}" if latest else "the dataset's first version"
        choices.append(("", f"a new draft {name!r} ({where})"))
    warning = None
    if drafts and drafts[0].parent_id is None and latest is not None:
        warning = (
            f"The current draft {drafts[0].name!r} is a root: it does not hold the rows of "
            f"the published {latest.name!r}. Choose the draft to import into."
        )
    return {"choices": choices, "warning": warning}


def import_card(request, *, record_type: str, **values) -> dict:
    """What the import card of a page shows: the form (as posted), the columns, the sample
    files, where the rows go, and a refusal or a preview of the chosen file."""
    from .bulk.guide import import_columns

    return {
        "record_type": record_type,
        "label": "data rows" if record_type == "data_rows" else "frames",
        "columns": import_columns(record_type),
        "form": values.pop("import_form", None),
        **values,
    }


def _browse_query(**params: str) -> str:
    """The frame browser's filters as a query string (carried by its page links)."""
    return urlencode({k: v for k, v in params.items() if v})


def _position(raw: str) -> int:
    """`?at=`: the 1-based position of a page's first frame, carried by the page links."""
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**9 else 1


@role_required(Role.VIEWER)
def version_page(request, version_id: str):
    version = selectors.version_get(version_id=version_id)
    context = version_context(request, version)
    return render(
        request,
        _partial(request, "versions/version_detail.html", "frame-browser"),
        context,
        # htmx swaps only 2xx answers: its partial carries the refusal in a 200.
        status=400 if context["frame_error"] and not request.htmx else 200,
    )


def version_context(request, version, **importer) -> dict:
    """The version page: statistics, frame browser, editors and the import card."""
    get = request.GET
    source = get.get("source", "").strip()
    key = get.get("key", "").strip()
    meta_text = get.get("meta", "").strip()
    order = get.get("order", "id") if get.get("order") in selectors.BROWSE_ORDERS else "id"
    after, before = get.get("after", ""), get.get("before", "")
    if before:
        after = ""
    at = _position(get.get("at", "")) if (after or before) else 1
    frames, has_more, total, capped, frame_error = [], False, None, False, None
    try:
        frames, has_more, total, capped = selectors.frames_browse(
            version=version,
            key=key,
            meta=selectors.browse_meta_filter(meta_text),
            source=source or None,
            order=order,
            after=after,
            before=before,
            limit=FRAMES_PER_PAGE,
        )
    except ApplicationError as exc:
        frame_error = exc.message
    for frame in frames:
        frame["thumbnail"] = frame_thumbnail(frame)
        media = frame_media(frame)
        frame["kind"] = media[0]["kind"] if media else "text"
    if before and not has_more:
        at = 1  # back at the start, whatever the links said
    others = selectors.version_list(dataset=version.dataset).exclude(pk=version.pk).exists()
    writable = user_has_role(request.user, Role.MANAGER) and not version.is_published
    query = _browse_query(
        source=source, key=key, meta=meta_text, order=order if order != "id" else ""
    )
    return {
        "version": version,
        "dataset": version.dataset,
        "parent": version.parent if version.parent_id else None,
        "frames": frames,
        "has_more": has_more,
        "next_after": frames[-1]["id"] if frames and (has_more or before) else None,
        "previous_before": frames[0]["id"] if frames and (after or before and has_more) else None,
        "query": query,
        "at": at,
        "last": at + len(frames) - 1,
        "next_at": at + len(frames),
        "previous_at": max(1, at - FRAMES_PER_PAGE),
        "total": total,
        "capped": capped,
        "source": source,
        "key": key,
        "meta": meta_text,
        "order": order,
        "orders": selectors.BROWSE_ORDERS,
        "after": after or before,
        "frame_error": frame_error,
        "metadata_form": MetadataForm(
            initial={"metadata": {k: v for k, v in version.metadata.items() if k != "mask_labels"}}
        ),
        "mask_form": MaskLabelsForm(
            initial={"mask_labels": version.metadata.get("mask_labels", [])}
        ),
        "frames_form": FramesForm(),
        "others": others,
        "importer": import_card(
            request,
            record_type="frames",
            url=reverse("version-import", args=[version.pk]),
            export_url=reverse("api:frame-export", args=[version.pk]),
            can_import=writable,
            target_name=f"{version.dataset.name} / {version.name}",
            **importer,
        ),
    }


@role_required(Role.VIEWER)
def frame_page(request, version_id: str, frame_id: str):
    """One frame in the UI: its media, sources, metadata, regions and attachments."""
    version = selectors.version_get(version_id=version_id)
    try:
        frame = selectors.frame_get(version=version, frame_id=frame_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context = {
        "version": version,
        "dataset": version.dataset,
        "frame": frame,
        "media": frame_media(frame),
        "neighbours": selectors.frame_neighbours(version=version, frame_id=frame["id"]),
    }
    return render(request, "versions/frame_detail.html", context)


def _back(version) -> str:
    return reverse("version-detail", args=[version.pk])


def _save_json(request, version_id: str, form_class, field: str, service, what: str):
    """One JSON editor on the version page: validate, call the service, say what happened."""
    version = selectors.version_get(version_id=version_id)
    form = form_class(request.POST)
    if form.is_valid() and form_call(
        form, service, version=version, **{field: form.cleaned_data[field]}
    ):
        messages.success(request, f"{what} saved.")
    else:
        messages.error(request, f"{what} not saved: " + _errors(form))
    return redirect(_back(version))


@require_POST
@role_required(Role.MANAGER)
def version_metadata_view(request, version_id: str):
    return _save_json(
        request, version_id, MetadataForm, "metadata", services.version_set_metadata, "Metadata"
    )


@require_POST
@role_required(Role.MANAGER)
def version_mask_labels_view(request, version_id: str):
    return _save_json(
        request,
        version_id,
        MaskLabelsForm,
        "mask_labels",
        services.version_set_mask_labels,
        "Mask labels",
    )


@require_POST
@role_required(Role.MANAGER)
def version_frames_add_view(request, version_id: str):
    version = selectors.version_get(version_id=version_id)
    form = FramesForm(request.POST)
    result = None
    if form.is_valid():
        result = form_call(
            form, services.frames_add, version=version, frames=form.cleaned_data["frames"]
        )
    if result is None:
        messages.error(request, "No frames added: " + _errors(form))
    else:
        messages.success(request, f"{result['added']} frame(s) added.")
        for failure in result["failed"][:10]:
            messages.warning(
                request,
                f"Frame {failure['index']} not added ({failure['error_type']}): "
                f"{failure['message']}",
            )
    return redirect(_back(version))


def _errors(form) -> str:
    return "; ".join(
        (f"{field}: " if field != "__all__" else "") + " ".join(errs)
        for field, errs in form.errors.items()
    )


@require_POST
@role_required(Role.MANAGER)
def version_commit_view(request, version_id: str):
    version = selectors.version_get(version_id=version_id)
    result = services.version_commit_or_start(version=version, user=request.user)
    if isinstance(result, type(version)):
        messages.success(request, f"Statistics refreshed: {result.stats['frame_count']} frames.")
        return redirect(_back(version))
    messages.info(request, "Counting statistics in the background.")
    return redirect("job-detail", job_id=result.pk)


@role_required(Role.MANAGER)
def version_snapshot_view(request, version_id: str):
    """GET: what will happen; POST: publish the draft and open its new draft child."""
    version = selectors.version_get(version_id=version_id)
    form = SnapshotForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = {k: v or None for k, v in form.cleaned_data.items()}
        child = form_call(
            form, services.version_snapshot, version=version, user=request.user, **data
        )
        if child:
            published = child.parent
            was = f" (until now {version.name!r})" if published.name != version.name else ""
            messages.success(
                request,
                f"Published {published.name!r}{was}; the new draft is {child.name!r}.",
            )
            return redirect("version-detail", version_id=child.pk)
    return render(
        request,
        "versions/version_confirm.html",
        {
            "version": version,
            "form": form,
            "action": "snapshot",
            "frame_count": version.stats.get("frame_count"),
        },
        status=400 if form.errors else 200,
    )


@role_required(Role.MANAGER)
def version_remove_view(request, version_id: str):
    """GET: what will happen; POST: remove (published ones need the force box)."""
    version = selectors.version_get(version_id=version_id)
    error = None
    if request.method == "POST":
        try:
            services.version_remove(version=version, force=request.POST.get("force") == "on")
        except ApplicationError as exc:
            # The API's `force=true` is the page's "Force" box.
            error = (
                "It is published: tick “Force” to remove it."
                if exc.field == "force"
                else exc.message
            )
        else:
            messages.success(request, f"Version {version.name!r} removed.")
            return redirect("dataset-detail", dataset_id=version.dataset_id)
    return render(
        request,
        "versions/version_confirm.html",
        {
            "version": version,
            "action": "remove",
            "error": error,
            "child_count": version.children.count(),
        },
        status=409 if error else 200,
    )


@role_required(Role.VIEWER)
def version_diff_page(request, version_id: str):
    version = selectors.version_get(version_id=version_id)
    against_id = request.GET.get("against") or (version.parent_id or "")
    # A bounded share of the other versions (changed last) and the one compared with.
    others, more_others = bounded_choices(
        selectors.version_list(dataset=version.dataset).exclude(pk=version.pk).only(*PICK),
        chosen=str(against_id)[:64],
    )
    diff, against, error, details = None, None, None, None
    if against_id:
        try:
            against = selectors.version_get(version_id=against_id)
            diff = selectors.version_diff(newer=version, older=against, limit=200)
            details = selectors.version_diff_details(newer=version, older=against, diff=diff)
        except ApplicationError as exc:
            error = exc.message
    return render(
        request,
        "versions/version_diff.html",
        {
            "version": version,
            "others": others,
            "more_others": more_others,
            "choices_max": CHOICES_MAX,
            "against": against,
            "diff": diff,
            "details": details,
            "kinds": [
                ("added", f"Added in {version.name}"),
                ("removed", f"Only in {against.name}" if against else "Removed"),
                ("changed", "Changed"),
            ],
            "error": error,
        },
    )
