"""`tokenopt bench`: the plan's promise measured on a simulated day (docs/bench.md)."""
