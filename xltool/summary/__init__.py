"""The summary of many units: merge, year-over-year analytics, the roster."""
