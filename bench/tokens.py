"""Write access tokens of a contest's participants to a file, one a line.

    python bench/tokens.py SLUG COUNT OUT [--skip N]

Run with the benchmark server's settings and secret, so the server
accepts the tokens. Participants are sampled across the whole board, so
``leaderboard/me/`` reads ranks from every part of it; ``--skip`` leaves
out the first N of the sample (the abuse scenario keeps them apart).
"""

import argparse
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
django.setup()

from django.db import connection  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402

_SAMPLE_SQL = """
SELECT e.user_id
FROM leaderboards_entry e JOIN contests_contest c ON c.id = e.contest_id
WHERE c.slug = %s
ORDER BY md5(e.user_id::text)
LIMIT %s OFFSET %s
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("slug")
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--skip", type=int, default=0)
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute(_SAMPLE_SQL, [args.slug, args.count, args.skip])
        user_ids = [user_id for (user_id,) in cursor.fetchall()]
    if not user_ids:
        raise SystemExit(f"no participants in {args.slug}")
    # for_user reads only the id; no need to load each user.
    tokens = [str(AccessToken.for_user(User(pk=user_id))) for user_id in user_ids]
    args.out.write_text("\n".join(tokens) + "\n")


if __name__ == "__main__":
    main()
