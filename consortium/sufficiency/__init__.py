"""Sufficiency (DESIGN §4b): demand, unmet need, the forecast beside the block beds, stability, high-cost reviews."""
