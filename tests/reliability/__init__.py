"""Faults with real processes, properties, fuzzing and input edges."""
