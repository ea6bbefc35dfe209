"""The store's live view of the site's queue (from the hub over MQTT), for the citizen's
phone page and the officer's counter screen."""
