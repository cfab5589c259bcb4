"""Talking to the outside world: one package per system, no flow logic."""
