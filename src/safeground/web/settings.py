"""The server's settings: one typed object, read from ``SAFEGROUND_*`` environment variables.

Tests and the ``serve`` command build a :class:`ServerSettings` directly (no environment patching);
a deployment sets ``SAFEGROUND_STORE``, ``SAFEGROUND_PUBLIC_URL`` and so on.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: a GeoPackage file or ``postgresql://…?schema=…``
    store: str = "demo.gpkg"
    #: the address clients reach the server at (behind a reverse proxy); None: the address of each request
    public_url: str | None = None
    title: str = "SafeGround"
    #: items per page when a client gives no ``limit`` (OGC API Features' usual 10)
    default_limit: int = Field(default=10, ge=1)
    #: the largest ``limit`` a client may ask for (GDAL and QGIS read it from the OpenAPI document)
    max_limit: int = Field(default=10_000, ge=1)
    #: seconds a layer's public view is reused before it is made again from the store (0: every request)
    view_ttl_s: float = Field(default=10.0, ge=0)
    #: bytes of encoded vector tiles kept in memory (web.tile_cache: per audience, filter and data fingerprint; 0: none)
    tile_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    #: failed logins allowed per client address and user name within ``login_window_s`` seconds
    login_attempts: int = Field(default=5, ge=1)
    login_window_s: float = Field(default=900.0, gt=0)
    #: requests allowed per API token within ``token_window_s`` seconds (0: no limit); a 429 beyond
    token_requests: int = Field(default=1200, ge=0)
    token_window_s: float = Field(default=60.0, gt=0)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, v: str | None) -> str | None:
        return v.rstrip("/") if v else v

    def model_post_init(self, _context: object) -> None:
        if self.default_limit > self.max_limit:
            raise ValueError(f"default_limit ({self.default_limit}) is above max_limit ({self.max_limit})")
