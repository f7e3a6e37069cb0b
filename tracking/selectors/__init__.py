"""Reads of the tracking app: masks over frame ranges, revisions, comparisons, job progress."""
