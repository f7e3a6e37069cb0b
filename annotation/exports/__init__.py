"""Dataset files (PLM-Video-Human / PLM-VideoBench layouts) and deterministic streaming writers.

Pure Python (no Django): inputs are plain dicts and iterators; services feed them from the
database.
"""
