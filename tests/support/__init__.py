"""Helpers that run the real peers (soketi, pusher-js, the npm pusher library) for tests."""
