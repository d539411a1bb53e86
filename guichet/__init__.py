"""Guichet: calls for projects from publication to the last payment."""
