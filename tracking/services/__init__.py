"""Writes of the tracking app (masklets, prompts, jobs, revisions); reads are in selectors."""
