"""Back-office views, one module per topic: each GET page stays at its address, and each
action on it posts to an address of its own (one form, one permission, one service call)."""
