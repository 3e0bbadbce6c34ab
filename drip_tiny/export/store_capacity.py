"""How many samples of a model the board's sample store holds (docs/storage-format.md).

Mirrors the store's layout rules, so `drip-tiny export` can state the capacity in samples
and refuse a model whose sample cannot be stored at all, before anything is built:

- a page has a 28-byte header, then records packed on word boundaries;
- a record is a 24-byte header and the payload padded to a word; the header lies on the
  page the record starts on, the payload may continue on the next pages;
- a record starts on the newest page when its header fits there, else on a new page;
- the largest payload is min((pages - 1) * (page_bytes - 28) - 24, 65535).

tests/test_store_capacity.py fills the C store until it answers FULL and compares.
"""

from __future__ import annotations

from dataclasses import dataclass

from drip_tiny.boards import FlashArea

PAGE_HEADER_BYTES = 28
RECORD_HEADER_BYTES = 24
MAX_PAYLOAD = 65535  # the record's 16-bit len field


def max_sample_bytes(page_bytes: int, pages: int) -> int:
    """The largest payload one record takes (dt_store_max_sample)."""
    return min((pages - 1) * (page_bytes - PAGE_HEADER_BYTES) - RECORD_HEADER_BYTES,
               MAX_PAYLOAD)


def samples_that_fit(page_bytes: int, pages: int, sample_bytes: int) -> int:
    """Samples of sample_bytes an empty store takes before it is full (the STOP policy)."""
    if sample_bytes > max_sample_bytes(page_bytes, pages):
        return 0
    room = page_bytes - PAGE_HEADER_BYTES
    need = RECORD_HEADER_BYTES + (sample_bytes + 3) // 4 * 4
    free, end, count = pages, None, 0  # end: append point on the newest page
    while True:
        # here: the append point when the next record starts on the newest page (spelled
        # as an int | None so that mypy sees it is an int where it is used).
        here = end if end is not None and end + RECORD_HEADER_BYTES <= page_bytes else None
        starts_here = here is not None
        first = page_bytes - here if here is not None else room
        continuation = -(-(need - first) // room) if need > first else 0
        new_pages = continuation + (0 if starts_here else 1)
        if new_pages > free:
            return count
        free -= new_pages
        if continuation:
            end = PAGE_HEADER_BYTES + (need - first) - (continuation - 1) * room
        else:
            end = (here if here is not None else PAGE_HEADER_BYTES) + need
        count += 1


@dataclass(frozen=True)
class StoreCapacity:
    """The board's sample store against one model's sample size."""
    pages: int
    page_bytes: int
    sample_bytes: int

    @property
    def max_sample_bytes(self) -> int:
        return max_sample_bytes(self.page_bytes, self.pages)

    @property
    def samples(self) -> int:
        return samples_that_fit(self.page_bytes, self.pages, self.sample_bytes)

    def describe(self) -> str:
        return (f"sample store: {self.pages} pages of {self.page_bytes:,} B hold "
                f"{self.samples:,} samples of {self.sample_bytes:,} B")

    def to_json(self) -> dict[str, int]:
        return {"pages": self.pages, "page_bytes": self.page_bytes,
                "sample_bytes": self.sample_bytes, "samples": self.samples,
                "max_sample_bytes": self.max_sample_bytes}


def store_capacity(area: FlashArea | None, sample_bytes: int) -> StoreCapacity | None:
    """The capacity of a board's store area (None: the board declares no store)."""
    if area is None:
        return None
    return StoreCapacity(area.pages, area.page_bytes, sample_bytes)
