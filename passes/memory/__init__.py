"""Memory analysis and planning: buffer lifetimes (liveness), the arena planner, the report."""
