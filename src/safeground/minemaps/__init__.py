"""Mine maps: minefield records, their intake and their accuracy against clearance."""
