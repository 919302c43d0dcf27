"""Who a supporter calls: ZIP and district lookup, data import, organizer-edited targets."""
