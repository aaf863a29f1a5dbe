"""Keeping returnees alive: "is it safe here?" answered from everything the store knows."""
