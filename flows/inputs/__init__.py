"""Inputs: reading every input kind (customs lines, vehicles, Census, the schedule, scenarios,
refund rules) into checked, staged frames, with bad rows quarantined as `rejects`."""
