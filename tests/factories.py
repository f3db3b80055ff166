"""factory_boy factories for every model the tests build."""

import factory
from django.contrib.auth import get_user_model

from batches.models import Batch, Project, QueueEntry
from dashboard.models import Job
from dashboard.roles import Role, user_set_role
from versions.models import DataRow, Dataset, DatasetVersion


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        self.save()
        if extracted is not None:
            user_set_role(user=self, role=extracted)


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"dataset-{n}")


class DataRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataRow

    id = factory.Sequence(lambda n: f"row-{n:06d}")
    dataset = factory.SubFactory(DatasetFactory)
    global_key = factory.Sequence(lambda n: f"key-{n:06d}")
    row_data = factory.LazyAttribute(lambda o: f"s3://bucket/{o.id}.jpg")


class VersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetVersion

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"v{n}")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project-{n}")


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"batch-{n}")


class QueueEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueEntry

    batch = factory.SubFactory(BatchFactory)
    project = factory.SelfAttribute("batch.project")
    data_row = factory.SubFactory(DataRowFactory)


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "recount_stats"


class LabelFactory(factory.django.DjangoModelFactory):
    """A label on a queue entry's row (build it through `entry`); bypasses the queue rules."""

    class Meta:
        model = "batches.Label"

    class Params:
        entry = factory.SubFactory(QueueEntryFactory)

    project = factory.SelfAttribute("entry.project")
    batch = factory.SelfAttribute("entry.batch")
    data_row = factory.SelfAttribute("entry.data_row")
    author = factory.SubFactory(UserFactory, role=Role.LABELER)
    annotation = factory.LazyFunction(lambda: {"classes": ["car"]})
