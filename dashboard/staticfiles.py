"""Static file names: hashed from collectstatic's manifest in production, plain before it."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed manifest storage once `collectstatic` has written its manifest.

    Before that (a fresh clone's `make run`, the tests) `{% static %}` gives the plain name,
    which WhiteNoise serves from the finders (settings.WHITENOISE_USE_FINDERS), instead of
    failing on the missing manifest. `collectstatic` itself always writes hashed files and the
    manifest, so production never runs on plain names once it has collected."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.collected = self.manifest_storage.exists(self.manifest_name)

    def stored_name(self, name):
        if not self.collected:
            return name
        return super().stored_name(name)
