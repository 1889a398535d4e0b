"""Write the api's OpenAPI schema to a file without starting a server.

The frontend's typed client is generated from this file (`npm run gen:api`), and
`npm run check:api` fails when the committed copy no longer matches the api.

    cd backend && uv run python ../scripts/export_openapi.py [--out ../frontend/openapi.json]
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "frontend" / "openapi.json"


def build_schema() -> dict[str, object]:
    # Imported here so `--help` works without the backend environment.
    from printstash.app import create_app
    from printstash.core.settings import Settings

    with tempfile.TemporaryDirectory(prefix="printstash-openapi-") as tmp:
        # Building the schema never enters the lifespan: no database, no data dir writes.
        app = create_app(Settings(data_dir=Path(tmp), _env_file=None))
        return app.openapi()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="'-' for stdout")
    args = parser.parse_args(argv)
    text = json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
