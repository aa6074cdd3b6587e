"""Reading paths on the nested body must agree exactly with the flat view shown to users."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_core.domain.events import MISSING, NormalizedEvent, compile_path, flatten

AT = datetime(2025, 1, 1, tzinfo=UTC)
keys = st.sampled_from(["data", "customer", "email", "a", "b", "0", "1", "a.b", "x.y.z", "name"])
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3))
bodies = st.recursive(
    leaves,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


def event(body: dict) -> NormalizedEvent:
    return NormalizedEvent("dodo_payments", "payment.succeeded", "1", AT, "customer", body=body)


@settings(max_examples=400)
@given(st.dictionaries(keys, bodies, max_size=4), st.lists(keys, min_size=1, max_size=4))
def test_compiled_paths_match_the_flat_view(body, probe):
    nested, flat = event(body), event(body).data
    for path, value in flat.items():
        read = compile_path(path)(nested)
        if path.count(".") == 0 or not any("." in key for key in _all_keys(body)):
            assert read == value or read is MISSING and value is None, (path, read, value)
    absent = ".".join(probe)
    if absent not in flat and not any(key.startswith(absent + ".") for key in flat):
        assert compile_path(absent)(nested) is MISSING
        assert nested.lookup(absent) is None and not nested.has(absent)


def _all_keys(value) -> list[str]:
    if isinstance(value, dict):
        return list(value) + [k for item in value.values() for k in _all_keys(item)]
    if isinstance(value, list):
        return [k for item in value for k in _all_keys(item)]
    return []


def test_lists_and_keys_with_dots():
    body = {
        "data": {
            "product_cart": [{"product_id": "p1"}, {"product_id": "p2"}],
            "tags": ["a", "b"],
            "metadata": {"rekomi.ref": "r1", "empty": {}},
        }
    }
    nested = event(body)
    assert compile_path("data.product_cart.1.product_id")(nested) == "p2"
    assert compile_path("data.tags")(nested) == ["a", "b"]
    assert compile_path("data.product_cart")(nested) is MISSING  # spread into indexed paths, like the flat view
    assert compile_path("data.metadata.rekomi.ref")(nested) == "r1"
    assert compile_path("data.metadata.empty")(nested) is None
    assert nested.data["data.metadata.rekomi.ref"] == "r1"


def test_flat_records_read_the_same_way():
    record = NormalizedEvent("records", "partner.imported", "1", AT, "partner", {"data.email": "a@example.com"})
    assert compile_path("data.email")(record) == "a@example.com"
    assert compile_path("data.name")(record) is MISSING
    assert flatten({"data": {"email": "a@example.com"}}) == record.data
