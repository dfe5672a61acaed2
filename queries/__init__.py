"""Canned investigations, declared as data."""
