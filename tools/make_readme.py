"""Rewrite the processed tables' section of data/README.md from the schema (src/xjtrade/data/schema.py).

    python tools/make_readme.py          # rewrite it
    python tools/make_readme.py --check  # exit 1 if it differs (tests/test_schema.py checks the same)
"""

import sys
from pathlib import Path

from xjtrade.data.schema import readme_with_section

README = Path(__file__).resolve().parents[1] / "data" / "README.md"

if __name__ == "__main__":
    text = README.read_text(encoding="utf-8")
    new = readme_with_section(text)
    if "--check" in sys.argv:
        sys.exit(0 if new == text else 1)
    README.write_text(new, encoding="utf-8")
