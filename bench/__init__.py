"""``make bench``: the cost of a turn, against a bare handler and the stock SDK wiring."""
