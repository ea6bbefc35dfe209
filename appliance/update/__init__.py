"""A unit's side of updates: fetch a signed release, verify it, install it into a new
slot beside the running one, switch, and switch back by itself if it does not come up."""
