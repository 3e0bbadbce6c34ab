"""The store capacity `drip-tiny export` reports (drip_tiny/export/store_capacity.py)
equals what the C store takes when filled until it answers FULL, for one-page and
multi-page samples, and export refuses a model whose sample the store cannot hold."""

import pytest
from test_store import driver, run  # noqa: F401  (the ASan-built store driver fixture)

from drip_tiny.boards import FlashArea
from drip_tiny.export.store_capacity import (
    max_sample_bytes,
    samples_that_fit,
    store_capacity,
)

GEOMETRIES = [(256, 4), (256, 8), (128, 6), (4096, 4), (4096, 15)]
LENGTHS = [0, 1, 60, 203, 204, 205, 228, 300, 1000, 4000, 4068, 16000, 65535]


@pytest.mark.parametrize("page_bytes,pages", GEOMETRIES)
def test_capacity_matches_the_c_store_filled_until_full(driver, page_bytes, pages):  # noqa: F811
    for n in LENGTHS:
        out = run(driver, "capacity", str(page_bytes), str(pages), str(n))
        facts = dict(kv.split("=") for kv in out.split()[2:])
        assert int(facts["max"]) == max_sample_bytes(page_bytes, pages)
        assert int(facts["samples"]) == samples_that_fit(page_bytes, pages, n), (n, out)


def test_the_audio_clip_on_the_boards_stores():
    nrf = store_capacity(FlashArea(0xE0000, 30 * 4096, 4096), 16000)
    assert nrf.max_sample_bytes == 65535  # the record's 16-bit length, not the pages
    assert nrf.samples == 7  # 30 x 4,068 bytes / (24 + 16,000)
    mps2 = store_capacity(FlashArea(0x20300000, 248 * 4096, 4096), 16000)
    assert mps2.samples == 62
    assert store_capacity(None, 16000) is None
    assert nrf.describe() == "sample store: 30 pages of 4,096 B hold 7 samples of 16,000 B"
