"""Infrastructure the apps share (audit helpers, filter pieces, API write helpers): no models, no domain rules."""
