"""Frame projection: dot paths, array indexes and `*`."""

from versions.projection import parse_projection, project

FRAME = {
    "id": "f1",
    "dataset": {"id": "d1"},
    "sources": [
        {"id": "left", "uri": "s3://b/l.jpg", "preview": {"uri": "s3://b/pl.jpg"}},
        {"id": "right", "uri": "s3://b/r.jpg"},
    ],
    "meta": {"x": 1, "y": {"z": 2}},
}


def test_dot_paths_keep_the_frames_shape():
    assert project(FRAME, parse_projection("id,dataset.id,meta.y.z")) == {
        "id": "f1",
        "dataset": {"id": "d1"},
        "meta": {"y": {"z": 2}},
    }


def test_array_index_star_and_implicit_every_element():
    assert project(FRAME, parse_projection("sources.1.uri")) == {
        "sources": [{"uri": "s3://b/r.jpg"}]
    }
    everyone = {"sources": [{"uri": "s3://b/l.jpg"}, {"uri": "s3://b/r.jpg"}]}
    assert project(FRAME, parse_projection("sources.*.uri")) == everyone
    assert project(FRAME, parse_projection("sources.uri")) == everyone
    assert project(FRAME, parse_projection("sources.*.preview.uri")) == {
        "sources": [{"preview": {"uri": "s3://b/pl.jpg"}}]
    }


def test_missing_paths_are_left_out_and_no_projection_returns_everything():
    assert project(FRAME, parse_projection(["nope", "meta.q", "id"])) == {"id": "f1"}
    assert project(FRAME, None) is FRAME
