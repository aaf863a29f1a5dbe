"""Safe routes over roads and paths that avoid known dangers."""
