"""Vendor the browser libraries from npm into the package, with their versions and checksums.

    python scripts/vendor_web.py            # fetch the pinned versions and (re)write the files
    python scripts/vendor_web.py --check    # verify the shipped files against VENDOR.json

Why vendored: the workspace and the returnee page must work in a district office with no
internet, and a CDN would also tell a third party who opened which page. The files are taken
from the npm registry's tarball (``npm pack``), its integrity (sha512, as npm records it) is
checked against the registry's, and each shipped file's SHA-256 is written to VENDOR.json; the
test suite checks the files against it, so a hand edit or a partial copy is caught.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "src" / "safeground" / "web" / "static" / "vendor"
#: package → (version, files taken from the tarball's package/ directory)
PINNED: dict[str, tuple[str, list[str]]] = {
    "maplibre-gl": (
        "6.20.0",
        ["dist/maplibre-gl.mjs", "dist/maplibre-gl-worker.mjs", "dist/maplibre-gl.css", "LICENSE.txt"],
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch() -> None:
    record: dict[str, dict[str, object]] = {}
    for package, (version, files) in PINNED.items():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", f"{package}@{version}", "--silent"], cwd=tmp, check=True)
            tarball = next(Path(tmp).glob("*.tgz"))
            integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            registry = subprocess.run(
                ["npm", "view", f"{package}@{version}", "dist.integrity"], capture_output=True, text=True, check=True
            ).stdout.strip()
            if integrity != registry:
                sys.exit(f"{package}@{version}: tarball integrity {integrity} is not the registry's {registry}")
            dest = VENDOR / package
            dest.mkdir(parents=True, exist_ok=True)
            with tarfile.open(tarball) as tar:
                for name in files:
                    member = tar.extractfile(f"package/{name}")
                    if member is None:
                        sys.exit(f"{package}@{version} has no {name}")
                    (dest / Path(name).name).write_bytes(member.read())
        record[package] = {
            "version": version,
            "npm_integrity": integrity,
            "files": {Path(n).name: _sha256(VENDOR / package / Path(n).name) for n in files},
        }
        print(f"{package}@{version}: {len(files)} files, integrity {integrity[:20]}…")
    (VENDOR / "VENDOR.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def check() -> list[str]:
    """Every problem with the shipped files (empty when they are exactly what VENDOR.json says)."""
    record = json.loads((VENDOR / "VENDOR.json").read_text(encoding="utf-8"))
    problems = []
    for package, entry in record.items():
        version = PINNED.get(package, ("?", []))[0]
        if entry["version"] != version:
            problems.append(f"{package}: VENDOR.json says {entry['version']}, this script pins {version}")
        for name, digest in entry["files"].items():
            path = VENDOR / package / name
            if not path.is_file():
                problems.append(f"{package}/{name} is missing")
            elif _sha256(path) != digest:
                problems.append(f"{package}/{name} differs from the npm release (sha256 {_sha256(path)[:12]}…)")
    return problems


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        found = check()
        print("\n".join(found) or "vendored files match VENDOR.json")
        sys.exit(1 if found else 0)
    fetch()
