"""`freeze_startup_heap` moves what exists to the permanent generation and nothing else."""

import gc

from releve.entrypoints.runtime import freeze_startup_heap


def test_freeze_moves_existing_objects_out_of_the_collected_generations() -> None:
    gc.unfreeze()
    try:
        kept = [[i] for i in range(1000)]  # long-lived objects of the start-up
        freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen > len(kept)
        assert gc.get_count()[2] == 0  # nothing left for a full collection to re-scan
        later = [[i] for i in range(1000)]  # allocated after: still collected normally
        assert gc.get_freeze_count() == frozen
        assert any(gc.is_tracked(x) for x in later)
    finally:
        gc.unfreeze()
