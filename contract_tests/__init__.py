"""The transport contract suite: one set of cases run against every sync and async transport."""
