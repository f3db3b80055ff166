"""Review queue: what `review/next` + accept/reject cost with a large review backlog.

Sets up ROWS labels awaiting review (set-based SQL: a few statements), a few of them on
escalated rows, then reviewers take and decide labels; prints p50/p95 of `review_next`,
`label_accept` and `label_reject` in ms. SQLite by default, PostgreSQL with
BENCH_DATABASE_URL=postgres://…/name (see harness.py). `BENCH_REVIEW_ROWS` sets the backlog.
"""

import os
import statistics

from harness import bench_database, timed

ROWS = int(os.environ.get("BENCH_REVIEW_ROWS", "200000"))
ROUNDS = 200


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def setup():
    from django.contrib.auth import get_user_model
    from django.db import connection

    from batches.models import Batch, Project
    from dashboard.roles import Role, user_set_role
    from versions.models import Dataset

    users = get_user_model()
    author = users.objects.create(username="author")
    reviewers = [users.objects.create(username=f"rev{i}") for i in range(4)]
    for user in reviewers:
        user_set_role(user=user, role=Role.REVIEWER)
    dataset = Dataset.objects.create(name="review")
    project = Project.objects.create(name="review", review_percentage=1)
    batch = Batch.objects.create(project=project, name="b", size=ROWS)
    series = (
        "generate_series(1, %s) AS g"
        if connection.vendor == "postgresql"
        else "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %s) "
        "SELECT g FROM s)"
    )
    now = "CURRENT_TIMESTAMP"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO versions_datarow (id, dataset_id, global_key, row_data, created_at, "
            f"updated_at) SELECT 'b-' || g, %s, 'b-' || g, 'x', {now}, {now} FROM {series}",
            [dataset.pk, ROWS],
        )
        cursor.execute(
            "INSERT INTO batches_queueentry (project_id, batch_id, data_row_id, state, "
            "sort_priority, labels_required, labels_count, created_at, escalated) "
            f"SELECT %s, %s, 'b-' || g, 'done', 0, 1, 1, {now}, g %% 50000 = 0 FROM {series}",
            [project.pk, batch.pk, ROWS],
        )
        cursor.execute(
            "INSERT INTO batches_label (project_id, batch_id, data_row_id, author_id, "
            f"annotation, created_at, status) SELECT %s, %s, 'b-' || g, %s, '{{}}', {now}, "
            f"'pending_review' FROM {series}",
            [project.pk, batch.pk, author.pk, ROWS],
        )
        cursor.execute("ANALYZE")
    return project, reviewers


def explain(project, reviewer):
    """The plan of `review_next`'s statement now (rolled back)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from batches.services.reviews import _review_next_sql

    now = timezone.now()
    params = {"project": project.pk, "user": reviewer.pk, "now": now, "until": now}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN ANALYZE " + _review_next_sql(postgres=connection.vendor == "postgresql"),
            params,
        )
        print("\n".join(str(row[0]) for row in cursor.fetchall()))
        transaction.set_rollback(True)


def main():
    from batches.services import label_accept, label_reject, review_next

    with bench_database("review"):
        seconds, (project, reviewers) = timed(setup)
        print(f"set up {ROWS} labels awaiting review in {seconds:.1f} s")
        took: dict[str, list[float]] = {"review_next": [], "label_accept": [], "label_reject": []}
        for i in range(ROUNDS):
            reviewer = reviewers[i % len(reviewers)]
            seconds, label = timed(lambda r=reviewer: review_next(project=project, user=r))
            took["review_next"].append(seconds)
            if i % 2:
                seconds, _ = timed(
                    lambda r=reviewer, lb=label: label_accept(
                        project=project, label_id=lb.pk, user=r
                    )
                )
                took["label_accept"].append(seconds)
            else:
                seconds, _ = timed(
                    lambda r=reviewer, lb=label: label_reject(
                        project=project, label_id=lb.pk, user=r, reason="redo"
                    )
                )
                took["label_reject"].append(seconds)
        if os.environ.get("BENCH_REVIEW_EXPLAIN"):
            explain(project, reviewers[0])
        for name, values in took.items():
            print(
                f"{name:>13}: p50 {p(values, 0.5):6.2f} ms  p95 {p(values, 0.95):6.2f} ms  "
                f"mean {statistics.mean(values) * 1000:6.2f} ms  (n={len(values)})"
            )


if __name__ == "__main__":
    main()
