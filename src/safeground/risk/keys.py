"""Where a store names its current risk map: a module of its own, without the raster stack, so that a caller
can ask whether a store has a risk map (a report that needs none) without loading rasterio and GDAL."""

#: the store's metadata key of the current risk map (``risk.output.register_latest`` writes it)
LATEST_META = "risk.latest"
