"""manage.py load_demo: a small, idempotent demo — users for each role, a dataset of 300 rows
in two versions, a project with batches and some labels, and a statistics job.

The demo users get the well-known passwords of the README's local demo only when DEBUG is on or
`--with-demo-users` is given (`make run` does); otherwise they are made without a usable
password, so a demo loaded into a real deployment opens no door."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from batches.models import Batch, Label, Project, QueueEntry
from batches.services import batch_create, label_create, project_create
from dashboard.jobs.services import job_create
from dashboard.models import Job
from dashboard.roles import Role, user_set_role
from versions.models import DatasetVersion
from versions.services import dataset_create, frames_add, version_create, version_publish

USERS = [
    ("admin", Role.MANAGER, True),
    ("labeler", Role.LABELER, False),
    ("viewer", Role.VIEWER, False),
]
ROWS = 300
CLASSES = ["car", "person", "bicycle", "traffic light"]


def demo_frame(i: int, *, revised: bool = False) -> dict:
    label = CLASSES[i % len(CLASSES)]
    return {
        "id": f"demo-{i:04d}",
        "global_key": f"demo-img-{i:04d}",
        "sources": [
            {
                "id": "default",
                "uri": f"s3://labelops-demo/street/{i:04d}.jpg",
                "preview": {"uri": f"s3://labelops-demo/street/thumbs/{i:04d}.jpg"},
            }
        ],
        "meta": {
            "split": "val" if i % 5 == 0 else "train",
            "camera": f"cam{i % 3}",
            **({"reviewed": True} if revised else {}),
        },
        "rois": [{"label": [label], "confidence": 0.9, "bbox": [10, 10, 50 + i % 40, 60]}],
        "attachments": [],
    }


class Command(BaseCommand):
    help = "Load a small demo (safe to run again: it leaves the same data)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-demo-users",
            action="store_true",
            help="Give new demo users the README's known passwords even when DEBUG is off "
            "(a local demo only: anyone can sign in with them).",
        )

    @transaction.atomic
    def handle(self, *args, with_demo_users=False, **options):
        known_passwords = with_demo_users or settings.DEBUG
        users = {}
        for username, role, staff in USERS:
            user, created = get_user_model().objects.get_or_create(
                username=username, defaults={"is_staff": staff, "is_superuser": staff}
            )
            if created:
                if known_passwords:
                    user.set_password(username)  # the README's local demo
                else:
                    user.set_unusable_password()
                user.save()
            user_set_role(user=user, role=role)
            users[username] = user
        admin = users["admin"]

        dataset, _ = dataset_create(
            name="Street scenes",
            description="Demo street images.",
            tags=["demo", "images"],
            dataset_project="demo",
            user=admin,
        )
        v1 = DatasetVersion.objects.filter(dataset=dataset, name="v1").first()
        if v1 is None:
            v1, _ = version_create(dataset=dataset, name="v1", description="First pass", user=admin)
        if not v1.is_published:
            frames_add(version=v1, frames=[demo_frame(i) for i in range(ROWS)])
            v1 = version_publish(version=v1)
        v2 = DatasetVersion.objects.filter(dataset=dataset, name="v2").first()
        if v2 is None:
            v2, _ = version_create(
                dataset=dataset,
                name="v2",
                parent=v1,
                user=admin,
                description="Reviewed frames and new arrivals",
            )
            frames_add(
                version=v2,
                frames=[demo_frame(i, revised=True) for i in range(0, 60, 2)]
                + [demo_frame(i) for i in range(ROWS, ROWS + 20)],
            )

        project = Project.objects.filter(name="Street scenes labeling").first()
        if project is None:
            project = project_create(
                name="Street scenes labeling",
                label_classes=CLASSES,
                description="Boxes around road users.",
                user=admin,
            )
        plan = [
            ("street-0000", range(0, 150), 1, None),
            (
                "street-0001",
                range(150, 250),
                None,
                {"number_of_labels": 2, "coverage_percentage": 0.2},
            ),
        ]
        for name, rows, priority, consensus in plan:
            if not Batch.objects.filter(project=project, name=name).exists():
                batch_create(
                    project=project,
                    name=name,
                    priority=priority,
                    consensus_settings=consensus,
                    dataset=dataset,
                    version=v1,
                    global_keys=[f"demo-img-{i:04d}" for i in rows],
                    user=admin,
                )
        entries = QueueEntry.objects.filter(batch__project=project, batch__name="street-0000")
        for entry in entries.order_by("id")[:20]:
            if not Label.objects.filter(project=project, data_row_id=entry.data_row_id).exists():
                label_create(
                    entry=entry,
                    author=users["labeler"],
                    annotation={"objects": [{"class": "car", "bbox": [5, 5, 40, 40]}]},
                )

        if not Job.objects.filter(kind="recount_stats", params__version_id=v2.pk).exists():
            job_create(kind="recount_stats", params={"version_id": v2.pk}, user=admin)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: dataset {dataset.name!r} (v1 published, v2 draft), project "
                f"{project.name!r}."
            )
        )
        if not known_passwords:
            self.stdout.write(
                "The demo users (admin, labeler, viewer) have no password: set one with "
                "`manage.py changepassword`, or load the demo with --with-demo-users."
            )
