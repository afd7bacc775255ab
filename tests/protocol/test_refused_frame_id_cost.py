"""Reading the `id` of a refused frame does not build the rest of it: a frame of 25,000 keys is
refused with its id without the server allocating a Python object for every key."""

from __future__ import annotations

import tracemalloc

from warroom.protocol.parse import frame_id

MANY_KEYS = (
    '{"type":"subscribe","incident_id":1,'
    + ",".join(f'"k{n}":{n}' for n in range(25_000))
    + ',"id":"at-the-end"}'
)
"""Just under the 256 KiB frame limit, and refused (`k0` is not a field of `subscribe`)."""


def test_a_refused_frames_id_is_read_without_building_its_other_fields() -> None:
    tracemalloc.start()
    try:
        found = frame_id(MANY_KEYS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == "at-the-end"
    # `json.loads` built a dict of 25,000 keys and values: megabytes, several times the frame.
    assert peak < len(MANY_KEYS) // 4, f"{peak:,} bytes allocated to read one id"
