"""Casualty monitoring: Landmine Monitor statistics and cluster munition strike footprints."""
