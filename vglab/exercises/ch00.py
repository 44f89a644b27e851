"""Checks for the exercises of chapter 0."""
