"""``safeground styles``: the IMSMA symbology into the store, for QGIS to open it styled."""

from __future__ import annotations

from safeground.cli.common import StoreOpt, console


def styles(store: StoreOpt = "demo.gpkg") -> None:
    """Write the IMSMA symbology into the store's layer_styles table (QGIS opens the layers styled)."""
    from safeground.storage import open_store
    from safeground.styles.layer_styles import write_layer_styles

    open_store(store, create=False, readonly=True).close()  # a SafeGround store, or its clear error
    layers = write_layer_styles(store)
    console.print(f"default QGIS styles written for {len(layers)} layers: {', '.join(layers)}")
