"""The reception desk: server-rendered pages (Jinja2) served by the store itself, with
every asset local (no internet on an office LAN), Vietnamese first."""
