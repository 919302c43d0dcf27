"""``python -m handlers.cli``: the organizer CLI under Action Line's own overview (``handlers.cli.cli``)."""

from handlers.cli import main

main()
