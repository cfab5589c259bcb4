"""Vendor the front-end assets from the npm registry into static/vendor/.

xConnector must work air-gapped under a strict CSP, so nothing is loaded from
a CDN at run time. This script fetches pinned packages with ``npm pack``,
copies the files the pages use, builds a small SVG sprite of the icons the
templates name, and writes static/vendor/VERSIONS.json. Run it (``make
vendor``) after changing a version or an icon and commit the result.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"

PACKAGES: dict[str, dict[str, object]] = {
    "@tabler/core@1.6.1": {
        "dest": "tabler",
        "files": {
            "dist/css/tabler.min.css": "tabler.min.css",
            "dist/js/tabler.min.js": "tabler.min.js",
        },
        "license": None,  # MIT, stated in package.json
    },
    "htmx.org@2.0.8": {
        "dest": "htmx",
        "files": {"dist/htmx.min.js": "htmx.min.js"},
        "license": "LICENSE",
    },
    "@tabler/icons@3.49.0": {"dest": "tabler-icons", "files": {}, "license": "LICENSE"},
}

# Every icon a template uses through {% icon "name" %}.
ICONS = [
    "layout-dashboard",
    "plug-connected",
    "route",
    "player-play",
    "checklist",
    "briefcase",
    "shield-check",
    "logout",
    "user",
    "database",
    "server",
    "cpu",
    "alert-triangle",
    "circle-check",
    "lock",
    "info-circle",
    "arrow-right",
    "refresh",
    "clock",
    "alert-circle",
    "plug",
    "world",
    "api",
    "webhook",
    "mail",
    "folder",
    "search",
    "plus",
    "trash",
    "key",
    "pencil",
    "circle-x",
    "copy",
    "file-text",
    "building",
    "inbox",
]

_SOURCE_MAP = re.compile(r"\n?/[*/]# sourceMappingURL=[^\n]*(\*/)?\s*$")


def main() -> None:
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for spec, plan in PACKAGES.items():
            package = _unpack(spec, Path(tmp))
            dest = VENDOR / str(plan["dest"])
            dest.mkdir(parents=True, exist_ok=True)
            for source, target in dict(plan["files"]).items():  # type: ignore[call-overload]
                text = (package / source).read_text()
                # Without the .map files beside them, the manifest storage
                # would refuse the reference at collectstatic time.
                (dest / target).write_text(_SOURCE_MAP.sub("\n", text))
            if plan["license"]:
                (dest / "LICENSE").write_text(
                    (package / str(plan["license"])).read_text()
                )
            if spec.startswith("@tabler/icons@"):
                (dest / "sprite.svg").write_text(_sprite(package / "icons" / "outline"))
            versions[spec.rsplit("@", 1)[0]] = spec.rsplit("@", 1)[1]
    (VENDOR / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(f"vendored {', '.join(PACKAGES)} into {VENDOR.relative_to(ROOT)}")


def _unpack(spec: str, tmp: Path) -> Path:
    output = (
        subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", str(tmp)],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    target = tmp / output.removesuffix(".tgz")
    with tarfile.open(tmp / output) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def _sprite(folder: Path) -> str:
    symbols = []
    for name in ICONS:
        svg = (folder / f"{name}.svg").read_text()
        body = svg[svg.index(">") + 1 : svg.rindex("</svg>")].strip()
        body = re.sub(r"\s*\n\s*", "", body)
        symbols.append(
            f'<symbol id="{name}" viewBox="0 0 24 24" fill="none" '
            'stroke="currentColor" stroke-width="2" stroke-linecap="round" '
            f'stroke-linejoin="round">{body}</symbol>'
        )
    return '<svg xmlns="http://www.w3.org/2000/svg">' + "".join(symbols) + "</svg>\n"


if __name__ == "__main__":
    main()
