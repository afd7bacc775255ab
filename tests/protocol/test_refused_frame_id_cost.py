"""Reading the `id` of a refused frame does not build the rest of it: a frame of 25,000 keys is
refused with its id without the server allocating a Python object for every key, and an `id`
that is a huge array or object (however JSON spells the key) is not built either."""

from __future__ import annotations

import tracemalloc

import pytest

from warroom.protocol.parse import frame_id

MANY_KEYS = (
    '{"type":"subscribe","incident_id":1,'
    + ",".join(f'"k{n}":{n}' for n in range(25_000))
    + ',"id":"at-the-end"}'
)
"""Just under the 256 KiB frame limit, and refused (`k0` is not a field of `subscribe`)."""

_EMPTY_ARRAYS = ",".join(["[]"] * 80_000)
_KEYS_OF_EMPTY_ARRAYS = ",".join(f'"{n}":[]' for n in range(25_000))


def _peak_bytes_reading_id(raw: str | bytes) -> tuple[str | None, int]:
    tracemalloc.start()
    try:
        found = frame_id(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return found, peak


def test_a_refused_frames_id_is_read_without_building_its_other_fields() -> None:
    found, peak = _peak_bytes_reading_id(MANY_KEYS)
    assert found == "at-the-end"
    # `json.loads` built a dict of 25,000 keys and values: megabytes, several times the frame.
    assert peak < len(MANY_KEYS) // 4, f"{peak:,} bytes allocated to read one id"


@pytest.mark.parametrize(
    "raw",
    [
        f'{{"type":"subscribe","incident_id":1,"id":[{_EMPTY_ARRAYS}]}}',
        f'{{"type":"subscribe","incident_id":1,"id" : {{{_KEYS_OF_EMPTY_ARRAYS}}}}}',
        f'{{"type":"subscribe","incident_id":1,"\\u0069\\u0064":[{_EMPTY_ARRAYS}]}}',
        f'{{"type":"subscribe","id":"first","id":[{_EMPTY_ARRAYS}]}}'.encode(),
    ],
    ids=["array", "object", "escaped key", "repeated key, as bytes"],
)
def test_an_id_that_is_a_huge_array_or_object_is_not_built(raw: str | bytes) -> None:
    """Building 80,000 arrays to find that the id is no string cost the server 34 ms a frame
    (hostile10); such an id cannot be echoed, so it is never read."""
    found, peak = _peak_bytes_reading_id(raw)
    assert found is None
    assert peak < len(raw) // 4, f"{peak:,} bytes allocated to read one id"
