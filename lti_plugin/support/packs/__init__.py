"""Framework packs and absence ladders as TOML data files; read and checked by lti_plugin.support.pack."""
