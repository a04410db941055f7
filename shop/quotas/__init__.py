"""Quota rules: who may take how much of what, in which window; enforced when orders are placed."""
